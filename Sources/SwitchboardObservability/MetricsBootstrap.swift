import Metrics
import Prometheus
import Synchronization

/// The process-wide Prometheus registry: Switchboard's own series (with help text) and, through swift-metrics,
/// anything libraries report. Bootstrapped exactly once per process.
public enum MetricsBootstrap {
    private static let state = Mutex<LabeledMetrics?>(nil)

    public static func shared() -> LabeledMetrics {
        state.withLock { existing in
            if let existing { return existing }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = LabeledMetrics.durationBuckets
            MetricsSystem.bootstrap(factory)
            let created = LabeledMetrics(registry: registry)
            existing = created
            return created
        }
    }
}
