import Foundation

/// Keeps per-key order across retry tiers. When a record leaves for a retry tier its key is *parked*: later records
/// with that key (from the source topic or any tier) are sent after it, into the tier where it waits, until it
/// finishes. Members are handled strictly in the order they were parked.
///
/// Shared by every process of a consumer group (the store implements it durably).
public protocol KeyParking: Sendable {
    /// The first parked event for `key`, or nil when the key is not parked.
    func head(group: String, key: String) async throws -> ParkedEvent?

    /// Adds `eventId` behind the key's current members (no-op if already a member) and records where it waits.
    func park(group: String, key: String, eventId: String, topic: String, dueAt: Date) async throws

    /// Removes `eventId` from the key's members (it finished: processed, ignored or dead-lettered).
    func release(group: String, key: String, eventId: String) async throws
}

/// A ledger that is also the key parking and reads both in one round trip: what a record's try needs to know first.
public protocol LedgerAndParking: IdempotencyLedger, KeyParking {
    /// The ledger entry of `eventId` in `group` and the head of `key`'s parking (none without a key).
    func lookup(group: String, eventId: String, parkedUnder key: String?) async throws -> (LedgerEntry?, ParkedEvent?)
}

/// A parked event and the retry topic it waits in.
public struct ParkedEvent: Sendable, Hashable {
    public var eventId: String
    public var topic: String
    public var dueAt: Date

    public init(eventId: String, topic: String, dueAt: Date) {
        self.eventId = eventId
        self.topic = topic
        self.dueAt = dueAt
    }
}
