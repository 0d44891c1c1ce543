import Foundation
import Logging
import Testing
import SwitchboardDomain
@testable import SwitchboardStore
import TestSupport

/// The store's consent evidence, helpdesk follow-ups and the send decision, on SQLite and PostgreSQL alike.
@Suite("Consent in the store", .usesPostgres, .timeLimit(.minutes(5)))
struct ConsentStoreTests {
    let phone = "+15551234567"

    /// A ticket opened for the phone's conversation by a text sent at `textAt` (nil: not by a text).
    func ticket(_ store: Store, _ ticketId: Int64, phone: String? = nil, textAt: Date? = nil) async throws {
        let conversation = try await store.openConversation(accountId: "acme", phone: phone ?? self.phone).conversation
        try await store.attachTicket(
            conversationId: conversation.id, accountId: "acme", ticketId: ticketId, openedAt: Date(), forText: textAt)
    }

    func followUp(_ key: String, ticketId: Int64?, note: String = "note") -> HelpdeskFollowUp {
        HelpdeskFollowUp(accountId: "acme", key: key, ticketId: ticketId, phone: phone, note: note, closeTicket: false)
    }

    @Test(
        "every consent change keeps its time, source, event id, keyword and when it was recorded",
        arguments: StoreBackend.allCases)
    func evidence(backend: StoreBackend) async throws {
        try await withFreshStore(backend) { store in
            let at = Date(millis: 1_700_000_000_000)
            _ = try await store.applyConsent(
                ConsentChange(
                    accountId: "acme", phone: phone, state: .unsubscribed, at: at,
                    source: ConsentSource.providerKeyword("STOP"),
                    eventId: "SM1", keyword: "ARRET"
                ))
            _ = try await store.applyConsent(
                ConsentChange(
                    accountId: "acme", phone: phone, state: .subscribed, at: at.addingTimeInterval(60),
                    source: ConsentSource.keyword(.optIn)))
            let history = try await store.consentHistory(accountId: "acme", phone: phone)
            #expect(history.map(\.state) == [.unsubscribed, .subscribed])
            #expect(
                history[0].eventId == "SM1" && history[0].keyword == "ARRET"
                    && history[0].source == "provider-keyword:STOP" && history[0].at == at)
            #expect(history[0].recordedAt > at, "recorded now, not at the event's time")
            #expect(history[1].eventId == nil && history[1].keyword == nil)
        }
    }

    @Test(
        "an import applies all its rows in one transaction, older rows never over newer consent",
        arguments: StoreBackend.allCases)
    func importAll(backend: StoreBackend) async throws {
        try await withFreshStore(backend) { store in
            let at = Date(millis: 1_800_000_000_000)
            _ = try await store.applyConsent(
                ConsentChange(accountId: "acme", phone: phone, state: .unsubscribed, at: at, source: "keyword:STOP"))
            let rows = [
                ConsentChange(
                    accountId: "acme", phone: phone, state: .subscribed, at: at.addingTimeInterval(-60),
                    source: "import:crm"),
                ConsentChange(
                    accountId: "acme", phone: "+15550000001", state: .subscribed, at: at, source: "import:crm"),
            ]
            let result = try await store.importConsent(rows)
            #expect(result.applied == 1 && result.stale == 1)
            #expect(
                try await store.subscriber(accountId: "acme", phone: phone)?.state == .unsubscribed,
                "the newer STOP stands")
            #expect(try await store.subscribers(accountId: "acme").map(\.phone) == ["+15550000001", phone])
        }
    }

    @Test(
        "a follow-up is scheduled only with a consent change that applies, takes the active ticket, and is claimed by one worker at a time",
        arguments: StoreBackend.allCases)
    func followUps(backend: StoreBackend) async throws {
        try await withFreshStore(backend) { store in
            try await ticket(store, 42)
            let now = Date()
            let change = ConsentChange(
                accountId: "acme", phone: phone, state: .unsubscribed, at: now, source: "keyword:STOP")
            _ = try await store.applyConsent(change, followUp: followUp("note:e1:opt-out", ticketId: nil))
            var stale = change
            stale.at = now.addingTimeInterval(-60)
            stale.state = .subscribed
            _ = try await store.applyConsent(stale, followUp: followUp("note:e0:opt-in", ticketId: nil))
            #expect(
                try await store.followUp(accountId: "acme", key: "note:e0:opt-in") == nil,
                "a stale change schedules nothing")
            #expect(
                try await store.followUp(accountId: "acme", key: "note:e1:opt-out")?.ticketId == 42,
                "the active ticket, found in the consent transaction")

            let first = try await store.claimFollowUps(now: now.addingTimeInterval(1), lease: .seconds(60), limit: 10)
            #expect(first.map(\.key) == ["note:e1:opt-out"] && first.first?.attempts == 1)
            #expect(
                try await store.claimFollowUps(now: now.addingTimeInterval(2), lease: .seconds(60), limit: 10).isEmpty,
                "leased to the first worker")
            #expect(
                try await store.claimFollowUps(now: now.addingTimeInterval(61), lease: .seconds(60), limit: 10).first?
                    .attempts == 2, "taken again once the lease ran out")
            try await store.postponeFollowUp(
                accountId: "acme", key: "note:e1:opt-out", until: now.addingTimeInterval(3600),
                error: "gorgias.http_503")
            #expect(
                try await store.claimFollowUps(now: now.addingTimeInterval(120), lease: .seconds(60), limit: 10)
                    .isEmpty, "postponed")
            #expect(try await store.pendingFollowUps().count == 1)
            try await store.finishFollowUp(accountId: "acme", key: "note:e1:opt-out", outcome: .done)
            #expect(
                try await store.claimFollowUps(now: now.addingTimeInterval(7200), lease: .seconds(60), limit: 10)
                    .isEmpty)
            #expect(try await store.pendingFollowUps().count == 0)
            #expect(try await store.followUp(accountId: "acme", key: "note:e1:opt-out")?.outcome == .done)
        }
    }

    @Test(
        "a ticket's follow-ups run in the order they were scheduled; one without a ticket waits for the ticket a text sent before it opens",
        arguments: StoreBackend.allCases)
    func followUpOrderAndWaiting(backend: StoreBackend) async throws {
        try await withFreshStore(backend) { store in
            let now = Date()
            try await store.scheduleFollowUp(followUp("note:a", ticketId: nil))
            #expect(try await store.followUp(accountId: "acme", key: "note:a")?.ticketId == nil, "no ticket yet")
            #expect(
                try await store.claimFollowUps(now: now.addingTimeInterval(60), lease: .seconds(60), limit: 10).isEmpty,
                "a follow-up without a ticket is not claimed")
            try await ticket(store, 7, textAt: now.addingTimeInterval(-5))
            #expect(
                try await store.followUp(accountId: "acme", key: "note:a")?.ticketId == 7,
                "the ticket of the text the keyword overtook takes the waiting follow-up")

            var later = followUp("note:b", ticketId: 7)
            later.createdAt = now.addingTimeInterval(1)
            later.dueAt = later.createdAt
            try await store.scheduleFollowUp(later)
            let claimed = try await store.claimFollowUps(
                now: now.addingTimeInterval(60), lease: .seconds(60), limit: 10)
            #expect(claimed.map(\.key) == ["note:a"], "note:b waits while note:a is unfinished")
            try await store.finishFollowUp(accountId: "acme", key: "note:a", outcome: .done)
            #expect(
                try await store.claimFollowUps(now: now.addingTimeInterval(60), lease: .seconds(60), limit: 10).map(
                    \.key) == ["note:b"])
        }
    }

    @Test(
        "a follow-up waiting for a ticket is never given to a later conversation's: a text sent after it opens a ticket, the follow-up ends",
        arguments: StoreBackend.allCases)
    func waitingFollowUpsStayWithTheirConversation(backend: StoreBackend) async throws {
        try await withFreshStore(backend) { store in
            let stop = Date().addingTimeInterval(-3 * 86_400)
            var waiting = followUp("note:stop", ticketId: nil)
            waiting.createdAt = stop
            waiting.dueAt = stop
            waiting.closeTicket = true
            try await store.scheduleFollowUp(waiting)
            try await ticket(store, 9, textAt: Date())
            let ended = try #require(try await store.followUp(accountId: "acme", key: "note:stop"))
            #expect(ended.ticketId == nil && ended.outcome == .noTicket && ended.completedAt != nil)
            #expect(try await store.claimFollowUps(lease: .seconds(60), limit: 10).isEmpty, "ticket 9 gets nothing")
            // A reopen by a later text ends it just the same (ticket 9 closed first, so the STOP finds none open).
            _ = try await store.applyTicketStatus(
                TicketStatusChange(
                    accountId: "acme", ticketId: 9, status: .closed, snoozedUntil: nil, updatedAt: Date()))
            var other = followUp("note:stop2", ticketId: nil)
            other.createdAt = stop
            other.dueAt = stop
            try await store.scheduleFollowUp(other)
            try await store.attachWaitingFollowUps(accountId: "acme", phone: phone, ticketId: 9, textAt: Date())
            #expect(try await store.followUp(accountId: "acme", key: "note:stop2")?.outcome == .noTicket)
        }
    }

    @Test(
        "consent precedence: a later sign-up or import never undoes the customer's own opt-out; their START does; a merchant system's opt-out is undone by any later opt-in",
        arguments: StoreBackend.allCases)
    func consentPrecedence(backend: StoreBackend) async throws {
        try await withFreshStore(backend) { store in
            let at = Date(millis: 1_800_000_000_000)
            func apply(_ state: ConsentState, _ source: String, _ offset: Double, phone: String? = nil) async throws
                -> ConsentResult?
            {
                try await store.applyConsent(
                    ConsentChange(
                        accountId: "acme", phone: phone ?? self.phone, state: state, at: at.addingTimeInterval(offset),
                        source: source))
            }
            _ = try await apply(.unsubscribed, ConsentSource.keyword(.optOut), 0)
            guard case .refused? = try await apply(.subscribed, "signup-form", 60) else {
                Issue.record("a sign-up after the STOP must be refused")
                return
            }
            guard case .refused? = try await apply(.pending, ConsentSource.imported("crm"), 120) else {
                Issue.record("an import after the STOP must be refused")
                return
            }
            #expect(try await store.subscriber(accountId: "acme", phone: phone)?.state == .unsubscribed)
            guard case .applied? = try await apply(.subscribed, ConsentSource.keyword(.optIn), 180) else {
                Issue.record("the customer's START re-subscribes")
                return
            }
            #expect(try await store.subscriber(accountId: "acme", phone: phone)?.state == .subscribed)
            // The same for an agent's #optout and the provider's 21610; not for a merchant system's own opt-out.
            for (index, source) in [ConsentSource.agentOptOut, ConsentSource.provider(code: 21610)].enumerated() {
                let other = "+1555000010\(index)"
                _ = try await apply(.unsubscribed, source, 0, phone: other)
                guard case .refused? = try await apply(.subscribed, "signup-form", 60, phone: other) else {
                    Issue.record("\(source) is the customer's opt-out")
                    return
                }
            }
            _ = try await apply(.unsubscribed, "crm-sync", 0, phone: "+15550000200")
            guard case .applied? = try await apply(.subscribed, "signup-form", 60, phone: "+15550000200") else {
                Issue.record("a merchant system's opt-out is undone by a later opt-in")
                return
            }
            // A source name that would pass for the customer's keyword is kept apart.
            #expect(ConsentSource.upstream("keyword:START") == "upstream:keyword:START")
            #expect(!ConsentSource.isCustomerOptIn(ConsentSource.upstream("keyword:START")))
        }
    }

    @Test(
        "a send starts only with consent; the conversational window covers a recent texter without consent but never an opt-out",
        arguments: StoreBackend.allCases)
    func beginSend(backend: StoreBackend) async throws {
        try await withFreshStore(backend) { store in
            let now = Date()
            func claim(_ id: String, _ phone: String) async throws {
                _ = try await store.claimOutbound(
                    OutboundMessage(
                        id: id, accountId: "acme", ticketId: 1, messageId: 1, toPhone: phone, bodyDigest: "d",
                        state: .sending, createdAt: now, updatedAt: now
                    ))
            }
            try await claim("m1", phone)
            #expect(
                try await store.beginSend(id: "m1", accountId: "acme", phone: phone, conversationalWindow: nil)
                    == .blocked(nil))
            #expect(
                try await store.outbound(id: "m1")?.sendStartedAt == nil, "a blocked send is not stamped as started")

            _ = try await store.openConversation(
                accountId: "acme", phone: "+15550000002", at: now.addingTimeInterval(-3600))
            try await claim("m2", "+15550000002")
            #expect(
                try await store.beginSend(
                    id: "m2", accountId: "acme", phone: "+15550000002", conversationalWindow: .seconds(7200))
                    == .clear(conversational: true))
            let started = try await store.outbound(id: "m2")
            #expect(started?.sendStartedAt != nil && started?.state == .sending)
            try await claim("m3", "+15550000002")
            #expect(
                try await store.beginSend(
                    id: "m3", accountId: "acme", phone: "+15550000002", conversationalWindow: .seconds(60))
                    == .blocked(nil), "the last text is older than the window")

            _ = try await store.applyConsent(
                ConsentChange(
                    accountId: "acme", phone: "+15550000002", state: .unsubscribed, at: now, source: "keyword:STOP"))
            try await claim("m4", "+15550000002")
            guard
                case .blocked(let subscriber) = try await store.beginSend(
                    id: "m4", accountId: "acme", phone: "+15550000002", conversationalWindow: .seconds(7200))
            else {
                Issue.record("an opt-out blocks even within the conversational window")
                return
            }
            #expect(subscriber?.state == .unsubscribed)

            _ = try await store.applyConsent(
                ConsentChange(accountId: "acme", phone: phone, state: .subscribed, at: now, source: "signup"))
            try await claim("m5", phone)
            #expect(
                try await store.beginSend(id: "m5", accountId: "acme", phone: phone, conversationalWindow: nil)
                    == .clear(conversational: false))
        }
    }

    @Test("migration 2 scopes parked keys by their source topic", arguments: StoreBackend.allCases)
    func parkingMigration(backend: StoreBackend) async throws {
        let url = try freshDatabaseURL(backend)
        try await Store.withStore(url, logger: Logger(label: "t"), migrate: false) { store in
            try await store.database.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
                [])
            for statement in Migrations.all[0].statements(store.database.dialect) {
                try await store.database.query(statement, [])
            }
            try await store.database.query("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)", [])
            try await store.park(
                group: "g", key: "acme:+1555", eventId: "a", topic: "sms.inbound.retry.30s", dueAt: Date())
            #expect(try await store.migrate().first == 2)
            #expect(try await store.head(group: "g", key: "sms.inbound acme:+1555")?.eventId == "a")
            #expect(try await store.head(group: "g", key: "acme:+1555") == nil)
        }
    }
}
