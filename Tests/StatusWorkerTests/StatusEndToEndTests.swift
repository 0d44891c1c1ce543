import Foundation
import Testing
import LocalFleet
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardKafka
import TestSupport
import SwitchboardStore

/// The real StatusWorker process: ticket status, delivery status and consent converge whatever the arrival order.
@Suite("StatusWorker end to end", .serialized, .timeLimit(.minutes(10)))
struct StatusEndToEndTests {
    let acme = E2EFleet.TestAccount(id: "acme", oauth: true)
    /// Event times start a minute after seeding (a seeded ticket's status is "now"), in whole seconds (the store
    /// keeps milliseconds).
    let t0 = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 60).rounded(.down))

    func status(_ ticketId: Int64, _ value: TicketStatus, at offset: Double, snoozedUntil: Date? = nil, id: String)
        -> OutgoingRecord
    {
        TicketUpdate(
            accountId: "acme", ticketId: ticketId, status: value, updatedAt: t0.addingTimeInterval(offset),
            snoozedUntil: snoozedUntil
        )
        .record(id: id, source: "test")
    }

    @Test("close, snooze and reopen are mirrored with history; unknown tickets are ignored")
    func mirrorsStatus() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.status)
        let customer = try await fleet.seedConversation(acme, phone: "+15553330001", consent: .subscribed)
        let snoozeUntil = Date().addingTimeInterval(7200)
        try await fleet.produce([status(customer.ticketId, .closed, at: 10, id: "s1")])
        #expect(
            await eventually {
                (try? await fleet.withStore { try await $0.ticket(accountId: "acme", ticketId: customer.ticketId) })??
                    .status == .closed
            }, "\(fleet.logs)")
        try await fleet.produce([status(customer.ticketId, .closed, at: 20, snoozedUntil: snoozeUntil, id: "s2")])
        #expect(
            await eventually {
                (try? await fleet.withStore { try await $0.ticket(accountId: "acme", ticketId: customer.ticketId) })??
                    .isSnoozed == true
            })
        try await fleet.produce([
            status(customer.ticketId, .open, at: 30, id: "s3"), status(999_999, .closed, at: 40, id: "s4"),
        ])
        #expect(
            await eventually {
                (try? await fleet.withStore { try await $0.ticket(accountId: "acme", ticketId: customer.ticketId) })??
                    .status == .open
            })
        let history = try await fleet.withStore {
            try await $0.ticketHistory(accountId: "acme", ticketId: customer.ticketId)
        }
        #expect(history.map(\.status) == [.open, .closed, .closed, .open])
        #expect(
            await eventually {
                metricSum(
                    await fleet.workers[0].metrics(), "switchboard_records_total", matching: "outcome=\"ignored\"") >= 1
            })
        await fleet.shutdown()
    }

    @Test("shuffled and duplicated status events converge to the newest state")
    func convergence() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.status)
        let customer = try await fleet.seedConversation(acme, phone: "+15553330002", consent: .subscribed)
        var events = (1...30).map { index in
            status(customer.ticketId, index % 2 == 0 ? .open : .closed, at: Double(index * 10), id: "c\(index)")
        }
        events += events.prefix(10)
        events.shuffle()
        try await fleet.produce(events)
        #expect(
            await eventually {
                let history =
                    (try? await fleet.withStore {
                        try await $0.ticketHistory(accountId: "acme", ticketId: customer.ticketId)
                    }) ?? []
                return history.last?.at == t0.addingTimeInterval(300)
            }, "\(fleet.logs)")
        try await Task.sleep(for: .seconds(1))
        let ticket = try #require(
            try await fleet.withStore { try await $0.ticket(accountId: "acme", ticketId: customer.ticketId) })
        #expect(ticket.status == .open && ticket.statusAt == t0.addingTimeInterval(300))
        await fleet.shutdown()
    }

    @Test(
        "a failed delivery yields exactly one note with the code explained; 21610 unsubscribes, 30004 (blocked) does not"
    )
    func failedDelivery() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.status)
        let customer = try await fleet.seedConversation(acme, phone: "+15553330003", consent: .subscribed)
        let blocked = try await fleet.seedConversation(acme, phone: "+15553330004", consent: .subscribed)
        let optedOut = try await fleet.seedConversation(acme, phone: "+15553330005", consent: .subscribed)
        try await fleet.withStore { store in
            for (index, seeded) in [customer, blocked, optedOut].enumerated() {
                let now = Date()
                let message = OutboundMessage(
                    id: "acme:\(seeded.ticketId):\(index)", accountId: "acme", ticketId: seeded.ticketId,
                    messageId: Int64(index), toPhone: seeded.phone,
                    bodyDigest: "d", state: .sending, createdAt: now, updatedAt: now
                )
                _ = try await store.claimOutbound(message)
                try await store.advanceOutbound(id: message.id, to: .sent, providerSid: "SMfail\(index)", segments: 1)
            }
        }
        func delivery(_ sid: String, _ status: String, code: Int?, offset: Double, id: String) -> OutgoingRecord {
            DeliveryUpdate(
                accountId: "acme", messageSid: sid, status: status, at: t0.addingTimeInterval(offset), errorCode: code
            ).record(id: id, source: "test")
        }
        try await fleet.produce([
            delivery("SMfail0", "undelivered", code: 30003, offset: 3, id: "d1"),
            delivery("SMfail0", "sent", code: nil, offset: 2, id: "d2"),
            delivery("SMfail0", "undelivered", code: 30003, offset: 3, id: "d1"),
            delivery("SMfail0", "failed", code: 30003, offset: 4, id: "d3"),
            delivery("SMfail1", "failed", code: 30004, offset: 3, id: "d4"),
            delivery("SMfail2", "failed", code: 21610, offset: 3, id: "d6"),
            delivery("SMunknown", "delivered", code: nil, offset: 3, id: "d5"),
        ])
        #expect(
            await eventually {
                var counts: [Int] = []
                for seeded in [customer, blocked, optedOut] {
                    counts.append((try? await fleet.notes(acme, seeded.ticketId).count) ?? 0)
                }
                return counts == [1, 1, 1]
            }, "\(fleet.logs)")
        try await Task.sleep(for: .seconds(2))
        let notes = try await fleet.notes(acme, customer.ticketId)
        #expect(
            notes.count == 1 && notes.first?.contains("unreachable") == true && notes.first?.contains("30003") == true)
        let record = try await fleet.withStore { try await $0.outbound(accountId: "acme", providerSid: "SMfail0") }
        #expect(record?.state == .undelivered)
        let blockedNote = try await fleet.notes(acme, blocked.ticketId).first ?? ""
        #expect(
            blockedNote.contains("30004") && blockedNote.contains("not an opt-out")
                && !blockedNote.contains("marked the customer unsubscribed"), "\(blockedNote)")
        #expect(
            try await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: blocked.phone) }?.state
                == .subscribed, "30004 is not an opt-out")
        #expect(
            try await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: optedOut.phone) }?.state
                == .unsubscribed)
        #expect(
            try await fleet.notes(acme, optedOut.ticketId).first?.contains("marked the customer unsubscribed") == true)
        #expect(
            try await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: customer.phone) }?.state
                == .subscribed)
        await fleet.shutdown()
    }

    @Test("partially_delivered (a status Twilio documents) ends the reply's state and a note says part may be missing")
    func partiallyDelivered() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.status)
        let customer = try await fleet.seedConversation(acme, phone: "+15553330006", consent: .subscribed)
        try await fleet.withStore { store in
            let now = Date()
            let message = OutboundMessage(
                id: "acme:\(customer.ticketId):1", accountId: "acme", ticketId: customer.ticketId, messageId: 1,
                toPhone: customer.phone, bodyDigest: "d", state: .sending, createdAt: now, updatedAt: now)
            _ = try await store.claimOutbound(message)
            try await store.advanceOutbound(id: message.id, to: .sent, providerSid: "SMpart", segments: 2)
        }
        try await fleet.produce([
            DeliveryUpdate(accountId: "acme", messageSid: "SMpart", status: "partially_delivered", at: t0)
                .record(id: "p1", source: "test"),
            DeliveryUpdate(accountId: "acme", messageSid: "SMpart", status: "delivered", at: t0.addingTimeInterval(1))
                .record(id: "p2", source: "test"),
        ])
        #expect(
            await eventually { (try? await fleet.notes(acme, customer.ticketId).count) == 1 }, "\(fleet.logs)")
        #expect(try await fleet.notes(acme, customer.ticketId).first?.contains("only partly delivered") == true)
        let record = try await fleet.withStore { try await $0.outbound(accountId: "acme", providerSid: "SMpart") }
        #expect(record?.state == .partiallyDelivered, "a terminal state: the later `delivered` does not move it")
        await fleet.shutdown()
    }

    @Test("subscription changes apply in time order whatever their arrival order")
    func subscriptions() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.status)
        let phone = "+15553330005"
        func change(_ state: ConsentState, _ offset: Double, id: String) -> OutgoingRecord {
            SubscriptionUpdate(
                accountId: "acme", phone: phone, state: state, at: t0.addingTimeInterval(offset), source: "signup-form",
                customer: CustomerHint(name: "Sam")
            )
            .record(id: id, source: "test")
        }
        try await fleet.produce([
            change(.unsubscribed, 30, id: "u3"), change(.subscribed, 20, id: "u2"), change(.pending, 10, id: "u1"),
        ])
        #expect(
            await eventually {
                (try? await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: phone) })??.state
                    == .unsubscribed
            }, "\(fleet.logs)")
        try await Task.sleep(for: .seconds(1))
        let subscriber = try #require(
            try await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: phone) })
        #expect(
            subscriber.state == .unsubscribed && subscriber.changedAt == t0.addingTimeInterval(30)
                && subscriber.name == "Sam")
        try await fleet.produce([change(.subscribed, 40, id: "u4")])
        #expect(
            await eventually {
                (try? await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: phone) })??.state
                    == .subscribed
            })
        await fleet.shutdown()
    }

    @Test("conversation analytics: the CLI and the metrics report the same figures")
    func analytics() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let worker = try await fleet.start(.status)
        let one = try await fleet.seedConversation(acme, phone: "+15553330006", consent: .subscribed)
        _ = try await fleet.seedConversation(acme, phone: "+15553330007", consent: .subscribed)
        try await fleet.produce([
            status(one.ticketId, .closed, at: 60, id: "a1"),
            SubscriptionUpdate(
                accountId: "acme", phone: "+15553330007", state: .unsubscribed, at: Date(), source: "keyword:STOP"
            ).record(id: "a2", source: "test"),
        ])
        #expect(
            await eventually(timeout: .seconds(60)) {
                let text = await worker.metrics()
                return metricSum(text, "switchboard_tickets", matching: "status=\"closed\"") == 1
                    && metricSum(text, "switchboard_opt_outs_last_day") == 1
            }, "\(fleet.logs)")
        let stats = try await fleet.withStore { try await $0.conversationStats(accountId: "acme") }
        #expect(stats.ticketsByStatus["closed"] == 1 && stats.ticketsByStatus["open"] == 1 && stats.conversations == 2)
        let text = await worker.metrics()
        #expect(metricSum(text, "switchboard_tickets", matching: "status=\"open\"") == 1)
        #expect(metricSum(text, "switchboard_conversations") == 2)
        await fleet.shutdown()
    }
}
