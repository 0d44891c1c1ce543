import Foundation
import Logging
import KafkaMock
import SwitchboardKafka
import SwitchboardRuntime

/// A broker on this machine with every Switchboard topic: librdkafka's mock cluster in this process, or Tansu (an
/// independent Kafka-compatible broker) as a child process. `switchboard-dev fleet`, the benchmarks and the tests start
/// one; `SWITCHBOARD_TEST_BROKER=tansu` picks Tansu where the choice is left to the environment.
public final class LocalBroker: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// librdkafka's mock cluster (the embedded default; the only one that injects broker faults).
        case mock
        /// Tansu, from `.cache/kafka-compat` (see ``KafkaCompat``).
        case tansu

        /// `SWITCHBOARD_TEST_BROKER` (`mock` or `tansu`), else the mock cluster.
        public static var fromEnvironment: Kind {
            ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_BROKER"].flatMap(Kind.init(rawValue:)) ?? .mock
        }
    }

    public let kind: Kind
    public let bootstrapServers: String
    /// The mock cluster, for fault injection; nil on Tansu.
    public let mock: EmbeddedBroker?
    private let tansu: TansuBroker?

    /// Starts the broker and creates every source topic, retry tier and DLQ of `topology` with `partitions` each.
    /// `brokers` is the mock cluster's size (Tansu is one broker).
    public init(
        _ kind: Kind = .fromEnvironment, partitions: Int, topology: RetryTopology, brokers: Int = 1, logger: Logger
    ) throws {
        self.kind = kind
        switch kind {
        case .mock:
            let mock = try EmbeddedBroker(brokers: brokers, logger: logger)
            try mock.createSwitchboardTopics(partitions: partitions, topology: topology)
            self.mock = mock
            tansu = nil
            bootstrapServers = mock.bootstrapServers
        case .tansu:
            let tansu = try TansuBroker()
            self.tansu = tansu
            mock = nil
            bootstrapServers = tansu.bootstrapServers
            let outcomes = try KafkaAdmin(settings: KafkaSettings(bootstrapServers: bootstrapServers), logger: logger)
                .createTopics(KafkaAdmin.switchboardTopics(topology: topology, partitions: partitions))
            if let failed = outcomes.first(where: { $0.value != nil }) {
                throw FleetError(description: "Tansu refused topic \(failed.key): \(failed.value ?? "")")
            }
        }
    }

    /// librdkafka properties every producer and worker on this broker needs. Tansu's high watermark is wrong for
    /// produce batches of more than one record (lag reads low or negative), so each batch carries one record.
    public var clientProperties: [String: String] {
        kind == .tansu ? ["batch.num.messages": "1"] : [:]
    }

    /// ``clientProperties`` as `KAFKA_*` variables for a worker process.
    public var clientEnvironment: [String: String] {
        Dictionary(
            uniqueKeysWithValues: clientProperties.map {
                ("KAFKA_" + $0.key.uppercased().replacingOccurrences(of: ".", with: "_"), $0.value)
            })
    }

    /// What a worker process on this broker needs: ``clientEnvironment``, and on the mock cluster a 3 s session timeout.
    /// The mock finds group members by member id only (no static membership), so a crashed worker's replacement waits
    /// for the dead member's session to expire and then for a rebalance: about 4 s with 3 s, 25-50 s with the
    /// worker's 10 s default (`switchboard-dev bench recovery`). Real brokers hand a replacement its partitions back at once.
    /// The mock also holds an empty fetch for its whole wait (`fetch.wait.max.ms`, 500 ms by default) even when records
    /// arrive meanwhile, where a real broker answers at once; 10 ms keeps a caught-up worker as prompt as on a real
    /// broker (`bench e2e` at 200 ms: each conversation's first threaded text reached Gorgias ~300 ms later without it).
    public var workerEnvironment: [String: String] {
        var values = clientEnvironment
        if kind == .mock {
            values["KAFKA_SESSION_TIMEOUT_MS"] = "3000"
            values["KAFKA_HEARTBEAT_INTERVAL_MS"] = "500"
            values["KAFKA_FETCH_WAIT_MAX_MS"] = "10"
        }
        return values
    }

    /// Settings for a client of this broker, with ``clientProperties`` and `extra` on top.
    public func settings(_ extra: [String: String] = [:], source: String = "local") -> KafkaSettings {
        KafkaSettings(
            bootstrapServers: bootstrapServers,
            properties: clientProperties.merging(extra) { _, new in new }.sorted { $0.key < $1.key }.map {
                .init(name: $0.key, value: $0.value, source: source)
            }
        )
    }
}
