import Logging
import OTel
import ServiceLifecycle
import Tracing
import SwitchboardBase

/// Exports traces over OTLP/HTTP (swift-otel) when the standard `OTEL_*` variables ask for it, and is off otherwise.
///
/// On when `OTEL_TRACES_EXPORTER=otlp`, or when `OTEL_EXPORTER_OTLP_ENDPOINT` or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` names a collector, unless `OTEL_SDK_DISABLED=true` or
/// `OTEL_TRACES_EXPORTER=none`. swift-otel reads the rest itself: `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`,
/// the default, or `http/json`), `OTEL_EXPORTER_OTLP_HEADERS` (a collector's credentials: never logged),
/// `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, `OTEL_RESOURCE_ATTRIBUTES`. `OTEL_SERVICE_NAME` defaults to the process'
/// name (`inbound-worker`, `switchboard-ingress`, …). Logs and metrics stay where they are (JSON lines, Prometheus).
public enum TracingBackend {
    /// Whether `environment` asks for traces.
    public static func isRequested(_ environment: Environment) -> Bool {
        if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return false }
        switch environment["OTEL_TRACES_EXPORTER"]?.lowercased() {
        case "none": return false
        case "otlp": return true
        case .some(let other) where !other.isEmpty: return false
        default:
            return environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil
                || environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != nil
        }
    }

    /// Installs the exporting tracer when `environment` asks for traces and returns the service that batches and
    /// sends spans (run it in the process' ServiceGroup, first, so it shuts down last and flushes what is left);
    /// nil when tracing is off. Call once, before any span.
    public static func start(serviceName: String, environment: Environment, logger: Logger) throws -> (any Service)? {
        guard isRequested(environment) else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.diagnosticLogger = .custom(logger)
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        TracingSwitch.turnOn()
        logger.info("exporting traces over OTLP/HTTP", metadata: ["service": "\(serviceName)"])
        return backend.service
    }
}
