import Foundation
import Logging
import Synchronization
import KafkaMock
import LocalFleet
import SwitchboardBase
import SwitchboardKafka
import SwitchboardRuntime

/// A broker with Switchboard's topics, a producer, and helpers to read topics back: librdkafka's mock cluster, or
/// Tansu (an independent Kafka-compatible broker) when `SWITCHBOARD_TEST_BROKER=tansu` (see ``LocalBroker``).
public final class TestBroker: Sendable {
    // Declared before the broker so it is released first.
    public let producer: KafkaProducer
    public let local: LocalBroker
    public let settings: KafkaSettings
    public let topology: RetryTopology
    let logger = Logger(label: "test-broker")

    /// Whether this run's tests use Tansu.
    public static var isTansu: Bool { LocalBroker.Kind.fromEnvironment == .tansu }

    /// The mock cluster, for fault injection; nil on Tansu.
    public var mock: EmbeddedBroker? { local.mock }
    public var bootstrapServers: String { local.bootstrapServers }

    public init(partitions: Int = 6, tiers: [Duration] = [.seconds(1), .seconds(2)], brokers: Int = 1) throws {
        topology = RetryTopology(tiers: tiers)
        local = try LocalBroker(partitions: partitions, topology: topology, brokers: brokers, logger: logger)
        settings = local.settings(source: "test")
        producer = try KafkaProducer(settings: settings, clientId: "test-producer", logger: logger)
    }

    /// Environment for a worker on this broker, with test-friendly timings.
    public func environment(_ extra: [String: String] = [:]) -> Environment {
        var values = [
            "KAFKA_BROKERS": bootstrapServers,
            "KAFKA_SESSION_TIMEOUT_MS": "6000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "KAFKA_STATISTICS_INTERVAL_MS": "1000",
            "KAFKA_FETCH_WAIT_MAX_MS": "50",
            "RETRY_TIERS": topology.tiers.map(DurationText.format).joined(separator: ","),
            "RETRY_BACKOFF_BASE": "20ms",
            "RETRY_BACKOFF_MAX": "100ms",
            "METRICS_PORT": "0",
        ]
        values.merge(local.clientEnvironment) { _, new in new }
        values.merge(extra) { _, new in new }
        return Environment(values)
    }

    /// Produces `records` in order.
    public func send(_ records: [OutgoingRecord]) async throws {
        try await producer.sendAll(records)
    }

    /// Reads every record of `topic` from the beginning, waiting until at least `count` arrived.
    public func read(_ topic: String, atLeast count: Int, timeout: Duration = .seconds(30)) async throws
        -> [KafkaRecord]
    {
        let received = Mutex<[KafkaRecord]>([])
        let reader = try KafkaConsumer(
            settings: local.settings(["session.timeout.ms": "6000"], source: "test"),
            groupId: "reader-\(UUID().uuidString)",
            clientId: "test-reader",
            logger: logger
        )
        let reading = reader.readRecords { records in received.withLock { $0 += records } }
        try reader.start(topics: [topic])
        _ = await eventually(timeout: timeout) { received.withLock { $0.count } >= count }
        _ = await reader.close(timeout: .seconds(5))
        await reading.value
        return received.withLock { $0 }
    }

    /// Every record currently in `topic` (all partitions), read by assignment without joining a group.
    public func allRecords(_ topic: String) async throws -> [KafkaRecord] {
        let settings = self.settings
        let logger = self.logger
        return try await BlockingCall.run {
            let reader = try KafkaOffsetsReader(settings: settings, logger: logger)
            let partitions = try reader.topics()[topic] ?? 0
            return try (0..<partitions).flatMap { partition -> [KafkaRecord] in
                let topicPartition = TopicPartition(topic, Int32(partition))
                let marks = try reader.watermarks(topicPartition)
                return try reader.records(topicPartition, from: marks.low, until: marks.high, timeout: .seconds(20))
            }
        }
    }

    /// The committed offsets of `group` on `topic`'s partitions.
    public func committed(group: String, topic: String, partitions: Int = 6) async throws -> [TopicPartition: Int64] {
        let settings = self.settings
        let logger = self.logger
        return try await BlockingCall.run {
            let reader = try KafkaOffsetsReader(settings: settings, groupId: group, logger: logger)
            return try reader.committed(group: group, (0..<partitions).map { TopicPartition(topic, Int32($0)) })
        }
    }
}
