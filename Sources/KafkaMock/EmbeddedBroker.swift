internal import Crdkafka
import Logging
import SwitchboardKafka
import SwitchboardRuntime
import SwitchboardEvents
import SwitchboardBase

/// librdkafka's mock cluster: a real Kafka-protocol broker set on loopback that other processes
/// (workers, `kcat`) reach through ``bootstrapServers``. Used by `switchboard-dev broker`, `switchboard-dev fleet` and tests.
///
/// Its own module: only the CLI and the tests link it, so no worker executable carries the mock cluster (a test
/// reads their symbols).
///
/// Experimental librdkafka API (not ABI-stable); Debian's 2.0.2 waits 3 s before a new group's first join.
///
/// `@unchecked Sendable`: librdkafka's mock API is thread-safe; the pointers are immutable after init.
public final class EmbeddedBroker: @unchecked Sendable {
    /// Kafka protocol request types used for fault injection.
    public enum APIKey: Int16, Sendable, CaseIterable {
        case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, offsetCommit = 8, offsetFetch = 9
        case findCoordinator = 10, joinGroup = 11, heartbeat = 12, leaveGroup = 13, syncGroup = 14
    }

    public let bootstrapServers: String
    public let brokerCount: Int
    private let helper: RdKafkaHelperHandle
    private let cluster: OpaquePointer

    /// Starts `brokers` mock brokers listening on ephemeral loopback ports.
    public init(brokers: Int = 3, logger: Logger) throws {
        precondition(brokers >= 1)
        self.brokerCount = brokers
        helper = try RdKafkaHelperHandle(clientId: "switchboard-embedded-broker", logger: logger)
        guard let cluster = rd_kafka_mock_cluster_new(helper.pointer, Int32(brokers)) else {
            throw KafkaError(code: .unknown, reason: "could not start the mock cluster")
        }
        self.cluster = cluster
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)  // before the helper handle it belongs to
    }

    /// Creates a topic (replication factor capped by the broker count).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        let result = rd_kafka_mock_topic_create(
            cluster, name, Int32(partitions), Int32(min(replicationFactor, brokerCount)))
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(
                code: .init(rawValue: result.rawValue),
                reason: "create topic \(name): \(String(cString: rd_kafka_err2str(result)))")
        }
    }

    /// Creates every Switchboard topic: each source topic, its retry tiers and its DLQ, with `partitions` each.
    public func createSwitchboardTopics(partitions: Int, topology: RetryTopology) throws {
        for topic in topology.allTopics(EventKind.sourceTopics) {
            try createTopic(topic, partitions: partitions, replicationFactor: min(3, brokerCount))
        }
    }

    /// Makes the next `errors.count` requests of type `api` (to any broker) fail with these Kafka error codes.
    public func pushRequestErrors(_ api: APIKey, _ errors: [Int32]) {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        codes.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, buffer.count, buffer.baseAddress)
        }
    }

    /// Makes broker `id`'s next request of type `api` fail with `error` after `delay`.
    public func pushBrokerError(broker id: Int32, _ api: APIKey, _ error: Int32, delay: Duration = .zero) {
        _ = sb_mock_broker_push_error_rtt(
            cluster, id, api.rawValue, rd_kafka_resp_err_t(rawValue: error), Int32(delay.milliseconds))
    }

    /// Takes broker `id` (1-based) down: its connections close and new ones are refused.
    public func setBrokerDown(_ id: Int32) { _ = rd_kafka_mock_broker_set_down(cluster, id) }

    /// Brings broker `id` back up.
    public func setBrokerUp(_ id: Int32) { _ = rd_kafka_mock_broker_set_up(cluster, id) }

    /// Adds round-trip latency to every response from broker `id`.
    public func setBrokerRTT(_ id: Int32, _ rtt: Duration) {
        _ = rd_kafka_mock_broker_set_rtt(cluster, id, Int32(rtt.milliseconds))
    }

    /// Moves the coordinator of consumer group `group` to broker `id`.
    public func setGroupCoordinator(_ group: String, broker id: Int32) {
        _ = rd_kafka_mock_coordinator_set(cluster, "group", group, id)
    }

    /// Moves a partition's leadership to broker `id`.
    public func setPartitionLeader(_ topicPartition: TopicPartition, broker id: Int32) {
        _ = rd_kafka_mock_partition_set_leader(cluster, topicPartition.topic, topicPartition.partition, id)
    }
}
