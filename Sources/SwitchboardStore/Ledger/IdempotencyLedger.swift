import Foundation

/// How a record's handling ended; also the `outcome` label of `switchboard_records_total`.
public enum RecordOutcome: String, Sendable, CaseIterable {
    case processed
    case duplicate
    case ignored
    case retried
    case deadLettered = "dead_lettered"
}

/// One processed event, per consumer group.
public struct LedgerEntry: Sendable, Hashable {
    public var group: String
    public var eventId: String
    public var outcome: RecordOutcome
    /// ``CloudEvent/fingerprint`` of the handled event, to tell a redelivery from a conflicting reuse of the id.
    public var fingerprint: String
    public var recordedAt: Date

    public init(group: String, eventId: String, outcome: RecordOutcome, fingerprint: String, recordedAt: Date = Date())
    {
        self.group = group
        self.eventId = eventId
        self.outcome = outcome
        self.fingerprint = fingerprint
        self.recordedAt = recordedAt
    }
}

/// The processed-event ledger that makes redelivered events no-ops (architecture §3, Idempotency).
/// The store provides the durable implementation shared by every process.
public protocol IdempotencyLedger: Sendable {
    /// The entry for `eventId` in `group`, if the event was already handled.
    func lookup(group: String, eventId: String) async throws -> LedgerEntry?

    /// Records `entry`. Returns false when an entry already existed (another worker won); the existing one is kept.
    @discardableResult
    func record(_ entry: LedgerEntry) async throws -> Bool
}
