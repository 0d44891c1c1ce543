import Foundation
import SwitchboardJSON
import SwitchboardKafka

/// The headers a record gains when it moves to a retry tier or the DLQ (architecture §2).
/// `original-*` and `first-failure-at` are set once, at the first failure, and kept through every tier.
public enum FailureHeaders {
    /// The error class of a record parked behind an earlier event of its key (it has not failed itself).
    static let waitingBehind = "ordering.waiting_behind"

    public static let originalTopic = "switchboard-original-topic"
    public static let originalPartition = "switchboard-original-partition"
    public static let originalOffset = "switchboard-original-offset"
    public static let originalTimestamp = "switchboard-original-timestamp"
    public static let consumerGroup = "switchboard-consumer-group"
    public static let attempts = "switchboard-attempts"
    public static let firstFailureAt = "switchboard-first-failure-at"
    public static let lastFailureAt = "switchboard-last-failure-at"
    public static let errorClass = "switchboard-error-class"
    public static let errorMessage = "switchboard-error-message"
    public static let dueAt = "switchboard-due-at"
    /// `true` on a record deferred to its tier by throttling rather than moved there by a failure of its own.
    public static let deferred = "switchboard-deferred"
    /// On a dead letter: `retries-exhausted` (a transient failure outlasted every tier; the last attempt's effect may
    /// have happened, and a redrive is safe because effects are idempotent) or `rejected` (retrying cannot help).
    public static let deadLetterKind = "switchboard-dead-letter-kind"
    /// How many times an operator redrove the record from the DLQ.
    public static let redriveCount = "switchboard-redrive-count"

    /// Every failure header (set by the runtime, replaced when a record moves on).
    public static let all: [String] = [
        originalTopic, originalPartition, originalOffset, originalTimestamp, consumerGroup, attempts,
        firstFailureAt, lastFailureAt, errorClass, errorMessage, dueAt, deferred, deadLetterKind,
    ]

    /// Longest error message kept in a header.
    static let maximumMessageLength = 1024

    /// `record`'s headers updated for a failure: original location kept from an earlier failure if present.
    public static func headers(
        for record: KafkaRecord,
        group: String,
        attempts: Int,
        errorClass: String,
        message: String,
        now: Date,
        dueAt: Date?
    ) -> [KafkaHeader] {
        let firstFailure = record.header(firstFailureAt) ?? RFC3339.format(now, fractional: true)
        var values: [(String, String)] = [
            (originalTopic, record.header(originalTopic) ?? record.topic),
            (originalPartition, record.header(originalPartition) ?? String(record.partition)),
            (originalOffset, record.header(originalOffset) ?? String(record.offset)),
            (consumerGroup, group),
            (Self.attempts, String(attempts)),
            (firstFailureAt, firstFailure),
            (lastFailureAt, RFC3339.format(now, fractional: true)),
            (self.errorClass, errorClass),
            (errorMessage, String(message.prefix(maximumMessageLength))),
        ]
        if let timestamp = record.header(originalTimestamp)
            ?? record.timestamp.map({ RFC3339.format($0, fractional: true) })
        {
            values.append((originalTimestamp, timestamp))
        }
        if let dueAt { values.append((self.dueAt, RFC3339.format(dueAt, fractional: true))) }
        let kept = record.headers.filter { !all.contains($0.key) }
        return kept + values.map { KafkaHeader(key: $0.0, string: $0.1) }
    }

    /// Attempts made before this delivery (0 for a record that never failed).
    public static func previousAttempts(_ record: KafkaRecord) -> Int {
        record.header(attempts).flatMap(Int.init) ?? 0
    }

    /// When a retry-tier record is due again.
    public static func due(_ record: KafkaRecord) -> Date? {
        record.header(dueAt).flatMap(RFC3339.parse)
    }
}
