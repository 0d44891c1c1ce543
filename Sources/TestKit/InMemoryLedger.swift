import Foundation
import Synchronization
import SwitchboardStore

/// A process-local ledger for tests and benchmarks (the store is the real one).
public final class InMemoryLedger: IdempotencyLedger {
    private struct Key: Hashable {
        var group: String
        var eventId: String
    }

    private let entries = Mutex<[Key: LedgerEntry]>([:])

    public init() {}

    public func lookup(group: String, eventId: String) async throws -> LedgerEntry? {
        entries.withLock { $0[Key(group: group, eventId: eventId)] }
    }

    public func record(_ entry: LedgerEntry) async throws -> Bool {
        entries.withLock { entries in
            let key = Key(group: entry.group, eventId: entry.eventId)
            guard entries[key] == nil else { return false }
            entries[key] = entry
            return true
        }
    }

    public var count: Int { entries.withLock { $0.count } }
}
