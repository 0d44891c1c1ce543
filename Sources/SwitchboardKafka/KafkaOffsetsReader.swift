internal import Crdkafka
import Logging
import SwitchboardBase

/// Reads partition metadata, watermarks, a group's committed offsets and ranges of records from outside any consumer
/// group's membership: it never joins, so it works while every worker is down. Used by `switchboard lag` and `dlq`,
/// the DLQ depth reporter and tests.
///
/// Calls block; use them through ``BlockingCall`` from async code.
/// `@unchecked Sendable`: the librdkafka handle is thread-safe.
public final class KafkaOffsetsReader: @unchecked Sendable {
    let handle: OpaquePointer
    let context: RdKafkaHandleContext
    private let settings: KafkaSettings
    public let groupId: String

    public init(settings: KafkaSettings, groupId: String = "switchboard-offsets-reader", logger: Logger) throws {
        self.settings = settings
        self.groupId = groupId
        self.context = RdKafkaHandleContext(logger: logger)
        let conf = try RdKafkaConfiguration.make(
            settings: settings,
            defaults: ["client.id": "switchboard-offsets-reader"],
            enforced: ["group.id": groupId, "enable.auto.commit": "false"]
        )
        context.install(on: conf)
        self.handle = try makeRdKafkaHandle(type: RD_KAFKA_CONSUMER, conf: conf)
    }

    deinit { rd_kafka_destroy(handle) }

    /// Every topic's partition count, from cluster metadata.
    public func topics(timeout: Duration = .seconds(10)) throws -> [String: Int] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(handle, 1, nil, &metadata, Int32(timeout.milliseconds))
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(result, "metadata")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        var topics: [String: Int] = [:]
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            topics[String(cString: topic.topic)] = Int(topic.partition_cnt)
        }
        return topics
    }

    /// The low and high watermarks (first retained offset, next offset to be written).
    public func watermarks(_ topicPartition: TopicPartition, timeout: Duration = .seconds(10)) throws -> (
        low: Int64, high: Int64
    ) {
        var low: Int64 = -1
        var high: Int64 = -1
        let result = rd_kafka_query_watermark_offsets(
            handle, topicPartition.topic, topicPartition.partition, &low, &high, Int32(timeout.milliseconds)
        )
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(result, "watermarks \(topicPartition)")
        }
        return (low, high)
    }

    /// Committed offsets of `groupId` for `partitions`; a partition without a commit is absent.
    public func committed(group groupId: String, _ partitions: [TopicPartition], timeout: Duration = .seconds(10))
        throws -> [TopicPartition: Int64]
    {
        // rd_kafka_committed answers for the handle's own group.id.
        let reader =
            groupId == self.groupId
            ? self : try KafkaOffsetsReader(settings: settings, groupId: groupId, logger: context.logger)
        return try TopicPartitionList.with(partitions.map { ($0, nil) }) { list in
            let result = rd_kafka_committed(reader.handle, list, Int32(timeout.milliseconds))
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(result, "committed offsets")
            }
            var offsets: [TopicPartition: Int64] = [:]
            for (topicPartition, offset, _) in TopicPartitionList.read(list) where offset >= 0 {
                offsets[topicPartition] = offset
            }
            return offsets
        }
    }
}
