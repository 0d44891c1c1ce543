import Foundation
import NIOCore
import SwitchboardBase
import SwitchboardKafka

/// Everything the runtime reads from the environment, parsed and checked once at start.
///
/// | Variable | Default | Meaning |
/// |---|---|---|
/// | `KAFKA_BROKERS` | required | bootstrap list; `KAFKA_<PROPERTY>` passes any librdkafka property |
/// | `WORKER_TOPICS` | all of the worker's topics | comma-separated subset of source topics (scale a topic alone) |
/// | `CONSUMER_GROUP` | the worker's group | override (benchmarks, blue/green) |
/// | `STATIC_MEMBERSHIP` | off | `hostname`: `group.instance.id` is the host name (a StatefulSet pod's name, a compose container's id), so a restarted replica takes its partitions back at once; `KAFKA_GROUP_INSTANCE_ID` sets it directly |
/// | `METRICS_PORT` | per worker (9401/9402/9403) | `/metrics`, `/healthz`, `/readyz`; 0 picks a free port |
/// | `METRICS_HOST` | 0.0.0.0 | address they listen on: every interface, for Prometheus in a container; `switchboard-dev fleet` uses 127.0.0.1 |
/// | `MAX_IN_FLIGHT` | 256 | records handled concurrently per process |
/// | `MAX_BUFFERED_PER_PARTITION` | 2048 | unfinished records per partition before it is paused (a pause drops librdkafka's prefetch, so keep it rare) |
/// | `RETRY_TIERS` | `30s,5m,1h` | retry topic delays |
/// | `IN_PLACE_RETRIES` | 3 | tries in place before a retry tier |
/// | `IN_PLACE_RETRY_BUDGET` | 10s | longest a record retries in place |
/// | `RETRY_BACKOFF_BASE` / `RETRY_BACKOFF_MAX` | 200ms / 5s | jittered exponential backoff |
/// | `CIRCUIT_BREAKER_THRESHOLD` | 10 | consecutive dependency failures that open the circuit |
/// | `CIRCUIT_PROBE_INTERVAL` | 5s | probe period while open |
/// | `CREDENTIALS_RECHECK_INTERVAL` | 60s | wait of a merchant whose credentials a provider refused |
/// | `SHUTDOWN_TIMEOUT` | 25s | bound on a graceful shutdown |
/// | `REBALANCE_DRAIN_TIMEOUT` | 10s | wait for in-flight work of revoked partitions |
/// | `MAX_RECORD_BYTES` | 262144 | larger records are dead-lettered |
/// | `LEDGER_RETENTION` | 30d | processed-event ledger retention (must exceed the longest redelivery window) |
/// | `ACCOUNT_CACHE_TTL` | 10s | how soon a disconnect or credential change reaches every worker |
/// | `RATE_LIMIT_MAX_WAIT` | 1s | longest one API call waits for its account's budget (then the record gives its slot back and waits for the budget, holding none: `MerchantTurns`) |
/// | `DLQ_DEPTH_INTERVAL` | 30s | how often `switchboard_dlq_depth_records` is measured |
/// | `MERCHANT_HEALTH_INTERVAL` | 5m | how often the StatusWorker checks each connected merchant's Gorgias HTTP integration |
/// | `METRICS_ACCOUNT_LABELS` | 50 | merchant accounts with their own `account` label on per-account series (the first seen; later ones count as `other`) |
///
/// The store (`DATABASE_URL`), the secret key (`SWITCHBOARD_SECRET_KEY`) and logging (`LOG_LEVEL`, `LOG_FORMAT`) are
/// read by their own types, shared with the CLI and the ingress.
public struct WorkerConfiguration: Sendable {
    public var kafka: KafkaSettings
    public var group: String
    public var sourceTopics: [String]
    /// What each source topic's handling may call; topics missing here may call anything.
    public var dependencies: [String: Set<ProcessingFailure.Dependency>] = [:]
    public var metricsPort: Int
    public var metricsHost: String
    public var maxInFlight: Int
    public var maxBufferedPerPartition: Int
    public var retry: RetrySettings
    public var topology: RetryTopology
    public var breakerThreshold: Int
    public var shutdownTimeout: Duration
    public var rebalanceDrainTimeout: Duration
    public var maximumRecordBytes: Int
    public var ledgerRetention: Duration = .seconds(30 * 86400)
    public var accountCacheTTL: Duration = .seconds(10)
    public var rateLimitMaxWait: Duration = .seconds(1)
    public var deadLetterDepthInterval: Duration = .seconds(30)
    public var metricsAccountLabels = 50
    public var merchantHealthInterval: Duration = .seconds(300)
    /// Wake librdkafka's broker threads after a resume (see ``KafkaConsumer``); benchmarks turn it off to measure it.
    public var wakesFetchersOnResume = true

    /// An IP address to listen on (names would depend on the resolver at start).
    static func host(_ value: String, setting: String) throws -> String {
        guard (try? SocketAddress(ipAddress: value, port: 0)) != nil else {
            throw ConfigurationError(setting: setting, reason: "\(value) is not an IP address (0.0.0.0, 127.0.0.1, ::)")
        }
        return value
    }

    /// Applies `STATIC_MEMBERSHIP`: with `hostname`, and no `KAFKA_GROUP_INSTANCE_ID`, the host name becomes the
    /// member's `group.instance.id`. A static member that crashes and comes back under the same id within the session
    /// timeout gets its partitions back without a rebalance; one that is gone for good is replaced after it.
    static func staticMembership(
        _ environment: Environment, settings: KafkaSettings,
        hostName: () -> String = { ProcessInfo.processInfo.hostName }
    ) throws -> KafkaSettings {
        switch environment["STATIC_MEMBERSHIP"]?.lowercased() {
        case nil, "off":
            return settings
        case "hostname":
            guard !settings.properties.contains(where: { $0.name == "group.instance.id" }) else { return settings }
            var settings = settings
            settings.properties.append(.init(name: "group.instance.id", value: hostName(), source: "STATIC_MEMBERSHIP"))
            return settings
        case let other?:
            throw ConfigurationError(setting: "STATIC_MEMBERSHIP", reason: "expected off or hostname, got \"\(other)\"")
        }
    }

    /// The dependencies `sourceTopic`'s handling may call.
    public func dependencies(of sourceTopic: String) -> Set<ProcessingFailure.Dependency> {
        dependencies[sourceTopic] ?? Set(ProcessingFailure.Dependency.allCases)
    }

    /// Large enough that a backlog rarely pauses a partition: librdkafka purges a paused partition's prefetched
    /// records and fetches them again on resume, which at 512 cost half the no-op runtime's throughput. A revoke or a
    /// shutdown drains only running records, so a big buffer does not lengthen either.
    public static let defaultMaxBufferedPerPartition = 2048

    public static func from(_ environment: Environment, worker definition: FleetMember) throws -> WorkerConfiguration {
        var sourceTopics = definition.topics
        if let requested = environment.list("WORKER_TOPICS") {
            let unknown = requested.filter { !definition.topics.contains($0) }
            guard unknown.isEmpty, !requested.isEmpty else {
                throw ConfigurationError(
                    setting: "WORKER_TOPICS",
                    reason:
                        "\(definition.name) consumes \(definition.topics.joined(separator: ", ")); got \(requested.joined(separator: ", "))"
                )
            }
            sourceTopics = requested
        }
        var retry = RetrySettings()
        retry.inPlaceAttempts = try environment.int("IN_PLACE_RETRIES", default: 3, range: 1...100)
        retry.inPlaceBudget = try environment.duration("IN_PLACE_RETRY_BUDGET", default: .seconds(10))
        retry.backoff = Backoff(
            base: try environment.duration("RETRY_BACKOFF_BASE", default: .milliseconds(200)),
            maximum: try environment.duration("RETRY_BACKOFF_MAX", default: .seconds(5))
        )
        retry.probeInterval = try environment.duration("CIRCUIT_PROBE_INTERVAL", default: .seconds(5))
        retry.credentialsRecheck = try environment.duration("CREDENTIALS_RECHECK_INTERVAL", default: .seconds(60))
        var configuration = WorkerConfiguration(
            kafka: try staticMembership(environment, settings: try KafkaSettings.from(environment)),
            group: environment.string("CONSUMER_GROUP", default: definition.group),
            sourceTopics: sourceTopics,
            metricsPort: try environment.int("METRICS_PORT", default: definition.defaultMetricsPort, range: 0...65535),
            metricsHost: try Self.host(environment.string("METRICS_HOST", default: "0.0.0.0"), setting: "METRICS_HOST"),
            maxInFlight: try environment.int("MAX_IN_FLIGHT", default: 256, range: 1...100_000),
            maxBufferedPerPartition: try environment.int(
                "MAX_BUFFERED_PER_PARTITION", default: defaultMaxBufferedPerPartition, range: 1...1_000_000),
            retry: retry,
            topology: try RetryTopology.from(environment),
            breakerThreshold: try environment.int("CIRCUIT_BREAKER_THRESHOLD", default: 10, range: 1...10_000),
            shutdownTimeout: try environment.duration("SHUTDOWN_TIMEOUT", default: .seconds(25)),
            rebalanceDrainTimeout: try environment.duration("REBALANCE_DRAIN_TIMEOUT", default: .seconds(10)),
            maximumRecordBytes: try environment.int(
                "MAX_RECORD_BYTES", default: 256 * 1024, range: 1024...16 * 1024 * 1024)
        )
        configuration.ledgerRetention = try environment.duration("LEDGER_RETENTION", default: .seconds(30 * 86400))
        configuration.accountCacheTTL = try environment.duration("ACCOUNT_CACHE_TTL", default: .seconds(10))
        configuration.rateLimitMaxWait = try environment.duration("RATE_LIMIT_MAX_WAIT", default: .seconds(1))
        configuration.deadLetterDepthInterval = try environment.duration("DLQ_DEPTH_INTERVAL", default: .seconds(30))
        configuration.metricsAccountLabels = try environment.int(
            "METRICS_ACCOUNT_LABELS", default: 50, range: 0...10_000)
        configuration.merchantHealthInterval = try environment.duration(
            "MERCHANT_HEALTH_INTERVAL", default: .seconds(300))
        configuration.dependencies = definition.dependencies
        return configuration
    }
}
