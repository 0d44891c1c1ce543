import Foundation
import SwitchboardKafka

/// Lag in records and in seconds per owned partition, from librdkafka's statistics and the dispatch window.
extension ConsumerStateMachine {
    /// One partition's lag as `switchboard_consumer_lag_records` / `_seconds` report it.
    struct PartitionLag: Equatable {
        var topicPartition: TopicPartition
        var records: Int64
        var seconds: Double
        /// Records of it fetched and not yet finished.
        var buffered: Int
    }

    /// The lag of each owned partition whose committed lag librdkafka reports. Seconds are the age of the oldest
    /// unfinished record in the window; with none in flight, how long the partition has been behind (zero when
    /// caught up).
    mutating func lag(_ committedLags: [(TopicPartition, committedLag: Int64?)], now: Date) -> [PartitionLag] {
        let summary = dispatch.windowSummary()
        return committedLags.compactMap { topicPartition, committedLag in
            guard let window = summary[topicPartition], let lag = committedLag else { return nil }
            let seconds: Double
            if lag == 0 {
                behindSince[topicPartition] = now
                seconds = 0
            } else if let oldest = window.oldest {
                seconds = max(0, now.timeIntervalSince(oldest))
            } else {
                let since = behindSince[topicPartition] ?? now
                behindSince[topicPartition] = since
                seconds = now.timeIntervalSince(since)
            }
            return PartitionLag(
                topicPartition: topicPartition, records: lag, seconds: seconds, buffered: window.unfinished)
        }
    }

    /// Per merchant, how many records wait for its budget and since when.
    func waitingForBudget() -> [(merchant: String, waiting: Int, oldest: Date?)] { dispatch.waitingForBudget() }
}
