import Foundation
import Logging
import Prometheus
import Testing
import LocalFleet
import SwitchboardDomain
import SwitchboardObservability
import SwitchboardStore
import TestSupport

/// What a customer's threaded text costs the store, on both backends: the record's first look (ledger entry and
/// parked head) is one statement, and opening a known conversation (touching it, with its current ticket) is one
/// statement; the metered store counts statements and transactions.
@Suite("Store round trips", .usesPostgres, .timeLimit(.minutes(3)))
struct StoreRoundTripsTests {
    /// Runs `body` with a fresh, migrated store whose statements are counted; `counts()` reads the two counters.
    func withMeteredStore(
        _ backend: StoreBackend,
        _ body:
            @Sendable (Store, _ counts: @Sendable () -> (statements: Double, transactions: Double)) async throws
            -> Void
    ) async throws {
        let metrics = LabeledMetrics(registry: PrometheusCollectorRegistry())
        let counts: @Sendable () -> (statements: Double, transactions: Double) = {
            var buffer: [UInt8] = []
            metrics.registry.emit(into: &buffer)
            let text = String(decoding: buffer, as: UTF8.self)
            return (
                metricSum(text, MetricCatalog.storeStatements.name),
                metricSum(text, MetricCatalog.storeTransactions.name)
            )
        }
        try await Store.withStore(try freshDatabaseURL(backend), logger: Logger(label: "t"), metrics: metrics) {
            try await body($0, counts)
        }
    }

    @Test("the metered store counts each statement, inside a transaction or not, and each transaction")
    func counting() async throws {
        try await withMeteredStore(.sqlite) { store, counts in
            let before = counts()
            _ = try await store.lookup(group: "g", eventId: "e1")
            try await store.database.transaction { executor in
                try await executor.query("SELECT 1 AS one", [])
                try await executor.query("SELECT 2 AS two", [])
            }
            let after = counts()
            #expect(after.statements - before.statements == 3)
            #expect(after.transactions - before.transactions == 1)
        }
    }

    @Test(
        "a record's first look reads its ledger entry and its key's parked head in one statement",
        arguments: StoreBackend.allCases)
    func firstLook(backend: StoreBackend) async throws {
        try await withMeteredStore(backend) { store, counts in
            let key = "sms.inbound +15551230000"
            var (entry, head) = try await store.lookup(group: "g", eventId: "e1", parkedUnder: key)
            #expect(entry == nil && head == nil)
            try await store.park(group: "g", key: key, eventId: "e0", topic: "sms.inbound.retry.5s", dueAt: Date())
            try await store.park(group: "g", key: key, eventId: "e1", topic: "sms.inbound.retry.5s", dueAt: Date())
            _ = try await store.record(LedgerEntry(group: "g", eventId: "e1", outcome: .processed, fingerprint: "f1"))
            let before = counts().statements
            (entry, head) = try await store.lookup(group: "g", eventId: "e1", parkedUnder: key)
            #expect(counts().statements - before == 1)
            #expect(entry?.fingerprint == "f1" && entry?.outcome == .processed)
            #expect(head?.eventId == "e0" && head?.topic == "sms.inbound.retry.5s", "the key's first member heads it")
            (entry, head) = try await store.lookup(group: "g", eventId: "e2", parkedUnder: nil)
            #expect(entry == nil && head == nil, "no key, no head")
            (entry, head) = try await store.lookup(group: "other", eventId: "e1", parkedUnder: key)
            #expect(entry == nil && head == nil, "per consumer group")
        }
    }

    @Test(
        "opening a known conversation is one statement: it records the customer's activity (never moving it back) and returns the current ticket as mirrored",
        arguments: StoreBackend.allCases)
    func openConversation(backend: StoreBackend) async throws {
        try await withMeteredStore(backend) { store, counts in
            let t0 = Date(millis: 1_800_000_000_000)
            let first = try await store.openConversation(accountId: "acme", phone: "+15551234567", at: t0)
            #expect(first.currentTicket == nil && first.conversation.lastActivityAt == t0)
            try await store.attachTicket(
                conversationId: first.conversation.id, accountId: "acme", ticketId: 100, openedAt: t0)

            let before = counts().statements
            let later = try await store.openConversation(
                accountId: "acme", phone: "+15551234567", at: t0.addingTimeInterval(60))
            #expect(counts().statements - before == 1)
            #expect(later.conversation.id == first.conversation.id)
            #expect(later.conversation.lastActivityAt == t0.addingTimeInterval(60))
            #expect(later.currentTicket?.ticketId == 100 && later.currentTicket?.status == .open)

            _ = try await store.applyTicketStatus(
                TicketStatusChange(
                    accountId: "acme", ticketId: 100, status: .closed, snoozedUntil: nil,
                    updatedAt: t0.addingTimeInterval(90)))
            let late = try await store.openConversation(
                accountId: "acme", phone: "+15551234567", at: t0.addingTimeInterval(30))
            #expect(
                late.conversation.lastActivityAt == t0.addingTimeInterval(60), "an older text does not move it back")
            #expect(late.currentTicket?.status == .closed)
            #expect(late.currentTicket?.closedAt != nil)
        }
    }

    @Test(
        "an effect marked done with its event's ledger entry is one transaction: both are written, or neither",
        arguments: StoreBackend.allCases)
    func effectDoneWithLedger(backend: StoreBackend) async throws {
        try await withMeteredStore(backend) { store, counts in
            _ = try await store.beginEffect(accountId: "acme", key: "import:SM1")
            let before = counts()
            try await store.completeEffect(
                accountId: "acme", key: "import:SM1", reference: "208841467",
                recording: LedgerEntry(group: "g", eventId: "SM1", outcome: .processed, fingerprint: "f"))
            #expect(counts().transactions - before.transactions == 1)
            #expect(counts().statements - before.statements == 2)
            #expect(try await store.effect(accountId: "acme", key: "import:SM1")?.state == .done)
            #expect(try await store.lookup(group: "g", eventId: "SM1")?.fingerprint == "f")
        }
    }
}
