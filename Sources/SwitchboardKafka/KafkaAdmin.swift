internal import Crdkafka
import Logging
import SwitchboardBase

/// Creates topics through Kafka's admin API (CreateTopics), against any broker that implements it (Apache Kafka,
/// Tansu; not librdkafka's mock cluster, which creates topics through ``EmbeddedBroker``). Used by
/// `switchboard topics create` and by tests on a real broker.
///
/// Calls block; use them through ``BlockingCall`` from async code.
/// `@unchecked Sendable`: the librdkafka handle is thread-safe.
public final class KafkaAdmin: @unchecked Sendable {
    private let handle: OpaquePointer
    private let context: RdKafkaHandleContext

    /// A topic to create: its partitions, replication factor and topic configuration (`retention.ms`, …).
    public struct TopicSpec: Sendable, Hashable {
        public var name: String
        public var partitions: Int
        public var replicationFactor: Int
        public var config: [String: String]

        public init(name: String, partitions: Int, replicationFactor: Int = 1, config: [String: String] = [:]) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
            self.config = config
        }
    }

    public init(settings: KafkaSettings, logger: Logger) throws {
        context = RdKafkaHandleContext(logger: logger)
        let conf = try RdKafkaConfiguration.make(
            settings: settings, defaults: ["client.id": "switchboard-admin"], enforced: [:])
        context.install(on: conf)
        handle = try makeRdKafkaHandle(type: RD_KAFKA_PRODUCER, conf: conf)
    }

    deinit { rd_kafka_destroy(handle) }

    /// Creates `topics`; returns each topic's outcome: nil when created or already there, else the broker's reason.
    public func createTopics(_ topics: [TopicSpec], timeout: Duration = .seconds(30)) throws -> [String: String?] {
        var errorText = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for spec in topics {
            guard
                let topic = rd_kafka_NewTopic_new(
                    spec.name, Int32(spec.partitions), Int32(spec.replicationFactor), &errorText, errorText.count)
            else {
                throw KafkaError(code: .unknown, reason: "topic \(spec.name): \(CStringBuffer.string(errorText))")
            }
            for (name, value) in spec.config.sorted(by: { $0.key < $1.key }) {
                _ = rd_kafka_NewTopic_set_config(topic, name, value)
            }
            newTopics.append(topic)
        }
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_operation_timeout(
            options, Int32(timeout.milliseconds), &errorText, errorText.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, Int32(timeout.milliseconds), &errorText, errorText.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, Int32(timeout.milliseconds + 5000)) else {
            throw KafkaError(code: .timedOut, reason: "CreateTopics: no answer within \(DurationText.format(timeout))")
        }
        defer { rd_kafka_event_destroy(event) }
        let failure = rd_kafka_event_error(event)
        guard failure == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(
                code: .init(rawValue: failure.rawValue),
                reason: "CreateTopics: \(String(cString: rd_kafka_event_error_string(event)))")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(code: .unknown, reason: "CreateTopics: no result")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return [:] }
        var outcomes: [String: String?] = [:]
        for index in 0..<count {
            let topic = results[index]
            let name = String(cString: rd_kafka_topic_result_name(topic))
            let code = rd_kafka_topic_result_error(topic)
            outcomes[name] =
                code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS
                ? .some(nil)
                : .some(
                    rd_kafka_topic_result_error_string(topic).map { String(cString: $0) }
                        ?? RdKafkaConfiguration.describe(code))
        }
        return outcomes
    }
}
