import Prometheus
import Synchronization

/// Creates and caches Prometheus series per label set, with help text from ``MetricCatalog``.
public final class LabeledMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let counters = Mutex<[String: Counter]>([:])
    private let gauges = Mutex<[String: Gauge]>([:])
    private let histograms = Mutex<[String: DurationHistogram]>([:])

    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    private static func key(_ spec: MetricCatalog.Spec, _ labels: [(String, String)]) -> String {
        labels.reduce(spec.name) { $0 + "\u{0}" + $1.0 + "=" + $1.1 }
    }

    private static func descriptor(_ spec: MetricCatalog.Spec) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: spec.name, unitName: "", helpText: spec.help)
    }

    public func counter(_ spec: MetricCatalog.Spec, _ labels: [(String, String)]) -> Counter {
        counters.withLock { cache in
            let key = Self.key(spec, labels)
            if let existing = cache[key] { return existing }
            let created = registry.makeCounter(descriptor: Self.descriptor(spec), labels: labels)
            cache[key] = created
            return created
        }
    }

    public func gauge(_ spec: MetricCatalog.Spec, _ labels: [(String, String)]) -> Gauge {
        gauges.withLock { cache in
            let key = Self.key(spec, labels)
            if let existing = cache[key] { return existing }
            let created = registry.makeGauge(descriptor: Self.descriptor(spec), labels: labels)
            cache[key] = created
            return created
        }
    }

    public func histogram(_ spec: MetricCatalog.Spec, _ labels: [(String, String)]) -> DurationHistogram {
        histograms.withLock { cache in
            let key = Self.key(spec, labels)
            if let existing = cache[key] { return existing }
            let created = registry.makeDurationHistogram(
                descriptor: Self.descriptor(spec), labels: labels, buckets: Self.durationBuckets)
            cache[key] = created
            return created
        }
    }

    /// Removes a gauge series (e.g. a partition this member no longer owns).
    public func removeGauge(_ spec: MetricCatalog.Spec, _ labels: [(String, String)]) {
        if let gauge = gauges.withLock({ $0.removeValue(forKey: Self.key(spec, labels)) }) {
            registry.unregisterGauge(gauge)
        }
    }
}
