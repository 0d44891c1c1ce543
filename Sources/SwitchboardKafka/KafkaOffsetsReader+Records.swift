internal import Crdkafka
import Foundation

extension KafkaOffsetsReader {
    /// The records of `topicPartition` in `[from, until)`, read by assignment (no group membership). Stops early at
    /// `limit` records or when `timeout` passes without reaching `until`.
    public func records(
        _ topicPartition: TopicPartition, from: Int64, until: Int64, limit: Int = .max, timeout: Duration = .seconds(10)
    ) throws -> [KafkaRecord] {
        guard from < until, limit > 0 else { return [] }
        let assigned = TopicPartitionList.with([(topicPartition, from)]) { rd_kafka_assign(handle, $0) }
        guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(assigned, "assign \(topicPartition)")
        }
        defer { rd_kafka_assign(handle, nil) }
        var records: [KafkaRecord] = []
        let deadline = ContinuousClock.now + timeout
        while records.count < limit, (records.last?.offset ?? from - 1) < until - 1, ContinuousClock.now < deadline {
            guard let message = rd_kafka_consumer_poll(handle, 100) else { continue }
            defer { rd_kafka_message_destroy(message) }
            if message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if message.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { break }
                continue
            }
            let record = KafkaRecord(copying: message)
            guard record.offset < until else { break }
            records.append(record)
        }
        return records
    }

    /// Commits `offsets` (the next offset to read) for this reader's own group, synchronously.
    public func commit(_ offsets: [(TopicPartition, Int64)]) throws {
        guard !offsets.isEmpty else { return }
        let result = TopicPartitionList.with(offsets.map { ($0.0, $0.1) }) { rd_kafka_commit(handle, $0, 0) }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(result, "commit")
        }
    }

    /// Lag of `group` on every partition of `topics` (absent topics are skipped): the records between its committed
    /// offset (or, without one, the first retained record) and the end — the same rule the workers' metrics use.
    public func lag(group: String, topics: [String], timeout: Duration = .seconds(10)) throws -> [PartitionLag] {
        let known = try self.topics(timeout: timeout)
        let partitions = topics.flatMap { topic in (0..<(known[topic] ?? 0)).map { TopicPartition(topic, Int32($0)) } }
        let committed = try self.committed(group: group, partitions, timeout: timeout)
        return try partitions.map { topicPartition in
            let marks = try watermarks(topicPartition, timeout: timeout)
            return PartitionLag(
                group: group, topicPartition: topicPartition, committed: committed[topicPartition], low: marks.low,
                high: marks.high)
        }
    }
}

/// One partition's position for one group.
public struct PartitionLag: Sendable, Hashable {
    public var group: String
    public var topicPartition: TopicPartition
    /// The next offset the group will read; nil when it never committed.
    public var committed: Int64?
    public var low: Int64
    public var high: Int64

    /// Records between the group's position and the end of the partition.
    public var lag: Int64 { max(0, high - max(committed ?? low, low)) }
    /// Where an unreviewed range starts.
    public var start: Int64 { max(committed ?? low, low) }
}
