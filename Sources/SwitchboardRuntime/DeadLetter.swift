import Foundation
import SwitchboardJSON
import SwitchboardKafka

/// A record in a `<topic>.dlq`, read through its failure headers (architecture §2): where it came from, why it
/// failed, how often it was tried and redriven. What `switchboard dlq` lists, filters and redrives.
public struct DeadLetter: Sendable {
    public var record: KafkaRecord
    public var originalTopic: String
    public var originalPartition: Int32?
    public var originalOffset: Int64?
    public var errorClass: String
    public var reason: String
    /// Why it is here: rejected, or retries exhausted (nil on records dead-lettered before the header existed).
    public var kind: Kind?
    public var attempts: Int
    public var firstFailureAt: Date?
    /// When it was dead-lettered (the last failure), else the record's timestamp.
    public var failedAt: Date?
    public var redriveCount: Int

    public init(_ record: KafkaRecord) {
        self.record = record
        originalTopic = record.header(FailureHeaders.originalTopic) ?? String(record.topic.dropLast(".dlq".count))
        originalPartition = record.header(FailureHeaders.originalPartition).flatMap { Int32($0) }
        originalOffset = record.header(FailureHeaders.originalOffset).flatMap { Int64($0) }
        errorClass = record.header(FailureHeaders.errorClass) ?? "unknown"
        reason = record.header(FailureHeaders.errorMessage) ?? ""
        kind = record.header(FailureHeaders.deadLetterKind).flatMap(Kind.init(rawValue:))
        attempts = record.header(FailureHeaders.attempts).flatMap(Int.init) ?? 0
        firstFailureAt = record.header(FailureHeaders.firstFailureAt).flatMap(RFC3339.parse)
        failedAt = record.header(FailureHeaders.lastFailureAt).flatMap(RFC3339.parse) ?? record.timestamp
        redriveCount = record.header(FailureHeaders.redriveCount).flatMap(Int.init) ?? 0
    }

    /// Why a record was dead-lettered.
    public enum Kind: String, Sendable, Codable {
        /// Retrying cannot help (invalid record, a 4xx, an unknown account).
        case rejected
        /// A transient failure outlasted the in-place retries and every retry tier. The effect of the last attempt
        /// may have happened (a response lost on the way back); a redrive is safe, effects are idempotent.
        case retriesExhausted = "retries-exhausted"
    }

    /// The account the record belongs to, as the runtime's fairness names it (``Merchant``).
    public var account: String? { record.key.map { Merchant(key: $0).name } }

    /// The record's key as text (bytes that are not UTF-8 replaced, so a hostile key still shows).
    public var keyText: String? { record.key.map { String(decoding: $0, as: UTF8.self) } }

    /// `topic:partition:offset` of the DLQ record, the handle `dlq show` takes.
    public var location: String { "\(record.topic):\(record.partition):\(record.offset)" }

    /// Where the record failed: `<topic>[<partition>]@<offset>` (`?` where a header is missing).
    public var origin: String {
        "\(originalTopic)[\(originalPartition.map(String.init) ?? "?")]@\(originalOffset.map(String.init) ?? "?")"
    }

    /// The DLQ partition and offset a ``location`` names; nil unless it is `<topic>.dlq:<partition>:<offset>`.
    public static func parseLocation(_ text: String) -> (topicPartition: TopicPartition, offset: Int64)? {
        let parts = text.split(separator: ":")
        guard parts.count == 3, parts[0].hasSuffix(".dlq"), let partition = Int32(parts[1]),
            let offset = Int64(parts[2])
        else { return nil }
        return (TopicPartition(String(parts[0]), partition), offset)
    }

    /// The record to produce back to its source topic: same key and value, failure headers dropped (so it starts
    /// over from the source topic), `switchboard-redrive-count` incremented and its DLQ location noted.
    public func redriven() -> OutgoingRecord {
        let kept = record.headers.filter {
            !FailureHeaders.all.contains($0.key) && $0.key != FailureHeaders.redriveCount && $0.key != Self.redrivenFrom
        }
        return OutgoingRecord(
            topic: originalTopic, key: record.key, value: record.value,
            headers: kept + [
                KafkaHeader(key: FailureHeaders.redriveCount, string: String(redriveCount + 1)),
                KafkaHeader(key: Self.redrivenFrom, string: location),
            ]
        )
    }

    /// Header naming the DLQ record a redriven record came from.
    public static let redrivenFrom = "switchboard-redriven-from"
}
