internal import Crdkafka

/// Conversions between Swift partition lists and `rd_kafka_topic_partition_list_t`.
enum TopicPartitionList {
    /// Copies a C list into Swift values (offset included, -1001 when unset).
    static func read(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> [(TopicPartition, Int64, Int32)]
    {
        guard let list, let elements = list.pointee.elems else { return [] }
        return (0..<Int(list.pointee.cnt)).map { index in
            let element = elements[index]
            return (
                TopicPartition(String(cString: element.topic), element.partition), element.offset, element.err.rawValue
            )
        }
    }

    /// Builds a C list; the caller destroys it with `rd_kafka_topic_partition_list_destroy`.
    static func make(_ entries: [(TopicPartition, Int64?)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))!
        for (topicPartition, offset) in entries {
            let element = rd_kafka_topic_partition_list_add(list, topicPartition.topic, topicPartition.partition)!
            if let offset { element.pointee.offset = offset }
        }
        return list
    }

    /// Runs `body` with a temporary C list.
    static func with<T>(
        _ entries: [(TopicPartition, Int64?)],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> T
    ) rethrows -> T {
        let list = make(entries)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return try body(list)
    }
}
