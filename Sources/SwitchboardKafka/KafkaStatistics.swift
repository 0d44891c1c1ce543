/// The parts of librdkafka's statistics JSON Switchboard reads (see librdkafka STATISTICS.md).
public struct KafkaStatistics: Decodable, Sendable {
    public struct Partition: Decodable, Sendable {
        public var partition: Int32
        /// True when the application wants this partition (assigned to this member).
        public var desired: Bool?
        /// `active` while fetching; stale values linger on other states after a revoke.
        public var fetchState: String?
        public var hiOffset: Int64?
        public var lsOffset: Int64?
        public var loOffset: Int64?
        public var committedOffset: Int64?
        public var storedOffset: Int64?
        public var consumerLag: Int64?
        public var consumerLagStored: Int64?

        enum CodingKeys: String, CodingKey {
            case partition, desired
            case fetchState = "fetch_state"
            case hiOffset = "hi_offset"
            case lsOffset = "ls_offset"
            case loOffset = "lo_offset"
            case committedOffset = "committed_offset"
            case storedOffset = "stored_offset"
            case consumerLag = "consumer_lag"
            case consumerLagStored = "consumer_lag_stored"
        }

        /// Records between the committed offset and the end of the partition; when nothing was ever
        /// committed, the whole retained partition counts (auto.offset.reset=earliest).
        public var committedLag: Int64? {
            guard let end = lsOffset.flatMap({ $0 >= 0 ? $0 : nil }) ?? hiOffset, end >= 0 else { return nil }
            let start = (committedOffset ?? -1) >= 0 ? committedOffset! : max(loOffset ?? 0, 0)
            return max(0, end - start)
        }
    }

    public struct Topic: Decodable, Sendable {
        public var partitions: [String: Partition]
    }

    public struct ConsumerGroup: Decodable, Sendable {
        public var state: String?
        public var joinState: String?
        public var rebalanceCount: Int?
        public var assignmentSize: Int?

        enum CodingKeys: String, CodingKey {
            case state
            case joinState = "join_state"
            case rebalanceCount = "rebalance_cnt"
            case assignmentSize = "assignment_size"
        }

        /// Connected to the coordinator with a settled assignment (possibly empty).
        public var isStable: Bool { state == "up" && joinState == "steady" }
    }

    public var topics: [String: Topic]?
    public var cgrp: ConsumerGroup?

    /// Partitions this member owns and is fetching, with their statistics.
    public var ownedPartitions: [(TopicPartition, Partition)] {
        (topics ?? [:]).flatMap { name, topic in
            topic.partitions.values
                .filter { $0.partition >= 0 && $0.desired == true }
                .map { (TopicPartition(name, $0.partition), $0) }
        }
    }
}
