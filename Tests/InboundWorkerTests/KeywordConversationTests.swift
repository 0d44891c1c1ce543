import Foundation
import Testing
import LocalFleet
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import TestSupport
import SwitchboardStore

/// A keyword never closes, swallows or undoes someone else's conversation: a STOP belongs to the conversation it was
/// texted in, a one-word answer reaches the agent, a sign-up cannot undo the customer's STOP, an extra opt-out word
/// gets its confirmation. Through the real workers.
@Suite("Keywords and conversations, end to end", .serialized, .timeLimit(.minutes(10)))
struct KeywordConversationTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    func text(_ body: String, from phone: String, sid: String, at: Date = Date()) -> OutgoingRecord {
        InboundText(accountId: acme.id, messageSid: sid, from: phone, to: acme.number, body: body, receivedAt: at)
            .record(id: sid, source: "test")
    }

    func tickets(_ fleet: E2EFleet) async throws -> [JSONValue] {
        try await fleet.gorgias(acme.id)["tickets"]?.arrayValue ?? []
    }

    func state(_ fleet: E2EFleet, _ phone: String) async -> ConsentState? {
        try? await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: phone)?.state }
    }

    @Test(
        "a STOP texted with no ticket open, then a question days later: the new ticket is open with the question, noted as opted out, not closed"
    )
    func stopThenQuestionDaysLater() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        let phone = "+15551410001"
        let threeDaysAgo = Date().addingTimeInterval(-3 * 86_400)
        try await fleet.produce([text("STOP", from: phone, sid: "SM-k1", at: threeDaysAgo)])
        #expect(await eventually { await state(fleet, phone) == .unsubscribed }, "\(fleet.logs)")
        try await fleet.produce([text("Hi, where is my refund?", from: phone, sid: "SM-k2")])
        #expect(await eventually { (try? await tickets(fleet).count) == 1 }, "\(fleet.logs)")
        let ticket = try #require(try await tickets(fleet).first)
        let ticketId = try #require(ticket["id"]?.intValue)
        #expect(
            await eventually { (try? await fleet.notes(acme, ticketId).count) == 1 },
            "the opted-out note follows:\n\(fleet.logs)")
        try await Task.sleep(for: .seconds(2))
        let now = try #require(try await tickets(fleet).first)
        #expect(now["status"] == "open", "the question stays in the open queue")
        let messages = try await fleet.ticketMessages(acme, ticketId)
        #expect(messages.contains { $0["body_text"] == "Hi, where is my refund?" && $0["from_agent"] == false })
        let notes = try await fleet.notes(acme, ticketId)
        #expect(notes.count == 1 && notes[0].contains("opted out of SMS") && !notes[0].contains("closed this ticket"))
        let stopFollowUp = try await fleet.withStore { store in
            try await store.followUps(accountId: "acme").first { $0.key.hasSuffix(":opt-out") }
        }
        #expect(stopFollowUp?.outcome == .noTicket && stopFollowUp?.ticketId == nil)
        await fleet.shutdown()
    }

    @Test(
        "a subscribed customer answers Yes or Info on an open ticket: the agent sees it as the customer's message (HELP's answer noted beside it); with no ticket open nothing opens"
    )
    func oneWordAnswers() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        let customer = try await fleet.seedConversation(acme, phone: "+15551410002", consent: .subscribed)
        try await fleet.produce([
            text("Yes", from: customer.phone, sid: "SM-y1"), text("Info", from: customer.phone, sid: "SM-y2"),
        ])
        #expect(
            await eventually {
                let bodies = (try? await fleet.ticketMessages(acme, customer.ticketId))?.compactMap {
                    $0["from_agent"] == false ? $0["body_text"]?.stringValue : nil
                }
                return bodies?.contains("Yes") == true && bodies?.contains("Info") == true
            }, "\(fleet.logs)")
        #expect(await eventually { (try? await fleet.notes(acme, customer.ticketId).count) == 1 })
        let notes = try await fleet.notes(acme, customer.ticketId)
        #expect(notes.first?.contains("HELP") == true && !notes.contains { $0.contains("re-subscribed") })
        #expect(await state(fleet, customer.phone) == .subscribed)

        // No ticket open: a "YES" to a marketing text opens none.
        let subscriber = "+15551410003"
        try await fleet.withStore {
            _ = try await $0.applyConsent(
                ConsentChange(
                    accountId: "acme", phone: subscriber, state: .subscribed, at: Date().addingTimeInterval(-60),
                    source: "signup-form"))
        }
        try await fleet.produce([text("YES", from: subscriber, sid: "SM-y3")])
        try await Task.sleep(for: .seconds(3))
        #expect(try await tickets(fleet).count == 1, "still only the seeded ticket")
        #expect(
            try await fleet.withStore { try await $0.lookup(group: FleetRoster.inbound.group, eventId: "SM-y3") }
                != nil, "handled")
        await fleet.shutdown()
    }

    @Test(
        "a sign-up dated after the customer's STOP does not re-subscribe them; their START does"
    )
    func signUpCannotUndoStop() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        try await fleet.start(.status)
        let phone = "+15551410004"
        let stop = Date().addingTimeInterval(-600)
        try await fleet.produce([text("STOP", from: phone, sid: "SM-s1", at: stop)])
        #expect(await eventually { await state(fleet, phone) == .unsubscribed }, "\(fleet.logs)")
        try await fleet.produce([
            SubscriptionUpdate(
                accountId: "acme", phone: phone, state: .subscribed, at: stop.addingTimeInterval(60),
                source: "signup-form", customer: CustomerHint()
            ).record(id: "signup:late", source: "test")
        ])
        #expect(
            await eventually {
                (try? await fleet.withStore {
                    try await $0.lookup(group: FleetRoster.status.group, eventId: "signup:late")
                }) != nil
            }, "\(fleet.logs)")
        #expect(await state(fleet, phone) == .unsubscribed, "the sign-up is refused")
        try await fleet.produce([text("START", from: phone, sid: "SM-s2")])
        #expect(await eventually { await state(fleet, phone) == .subscribed }, "\(fleet.logs)")
        await fleet.shutdown()
    }

    @Test(
        "an extra opt-out word the provider does not know (ARRET, no Advanced Opt-Out) gets Switchboard's one confirmation though the account leaves replies to the provider"
    )
    func extraWordConfirmed() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme) { settings in
            settings.consentReplies = .provider
            settings.extraKeywords = ConsentKeyword.Vocabulary(optOut: ["ARRET"])
        }
        try await fleet.start(.inbound)
        let phone = "+15551410005"
        try await fleet.produce([
            text("Arret", from: phone, sid: "SM-a1"), text("STOP", from: "+15551410006", sid: "SM-a2"),
        ])
        #expect(await eventually { await state(fleet, phone) == .unsubscribed }, "\(fleet.logs)")
        #expect(
            await eventually { (try? await fleet.sent(acme, to: phone).count) == 1 },
            "Switchboard confirms the word the provider does not know:\n\(fleet.logs)")
        try await Task.sleep(for: .seconds(2))
        #expect(try await fleet.sent(acme, to: phone).count == 1)
        #expect(try await fleet.sent(acme, to: "+15551410006").isEmpty, "STOP is the provider's to confirm")
        await fleet.shutdown()
    }
}
