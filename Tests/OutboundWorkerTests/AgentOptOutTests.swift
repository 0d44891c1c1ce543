import Foundation
import Testing
import LocalFleet
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardHTTP
import TestSupport
import SwitchboardJSON
import SwitchboardStore

/// `#optout` whatever the customer's consent was, and replies on tickets Switchboard does not own, through the real
/// OutboundWorker.
@Suite("#optout and foreign tickets, end to end", .serialized, .timeLimit(.minutes(10)))
struct AgentOptOutTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    func subscriber(_ fleet: E2EFleet, _ phone: String) async throws -> Subscriber? {
        try await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: phone) }
    }

    @Test(
        "#optout for a pending customer and one with no consent record opts them out, so the conversational window no longer lets a reply through; under Leave the ticket open the ticket stays open"
    )
    func optOutWithoutSubscription() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme) { settings in
            settings.conversationalReplyHours = 24
            settings.stopClosesTicket = false
        }
        try await fleet.start(.outbound)
        let pending = try await fleet.seedConversation(acme, phone: "+15552240001", consent: .pending)
        let unknown = try await fleet.seedConversation(acme, phone: "+15552240002", consent: nil)
        let first = try await fleet.agentReply(acme, ticketId: pending.ticketId, body: "Removing you. #optout")
        let second = try await fleet.agentReply(acme, ticketId: unknown.ticketId, body: "#opt-out")
        #expect(
            try await OutboundEndToEndTests.replyAndAwaitOneNoteEach(
                fleet, [(acme, pending.ticketId, first), (acme, unknown.ticketId, second)]), "\(fleet.logs)")
        for seeded in [pending, unknown] {
            let recorded = try await subscriber(fleet, seeded.phone)
            #expect(recorded?.state == .unsubscribed && recorded?.source == ConsentSource.agentOptOut)
            let note = try await fleet.notes(acme, seeded.ticketId).first ?? ""
            #expect(note.contains("opted out of SMS") && note.contains("conversational-reply window"), "\(note)")
        }
        // The customer texted in moments ago: without the opt-out, the window would send this.
        try await fleet.withStore { _ = try await $0.openConversation(accountId: "acme", phone: unknown.phone) }
        let later = try await fleet.agentReply(acme, ticketId: unknown.ticketId, body: "Anything else?")
        try await fleet.produce([fleet.replyEvent(acme, ticketId: unknown.ticketId, messageId: later)])
        #expect(await eventually { (try? await fleet.notes(acme, unknown.ticketId).count) == 2 }, "\(fleet.logs)")
        #expect(try await fleet.sms(acme).isEmpty, "nothing was sent")
        let tickets = try await fleet.gorgias("acme")["tickets"]?.arrayValue ?? []
        #expect(
            tickets.filter { [pending.ticketId, unknown.ticketId].contains($0["id"]?.intValue ?? 0) }.allSatisfy {
                $0["status"] == "open"
            }, "Leave the ticket open")
        await fleet.shutdown()
    }

    @Test(
        "a #optout older than a consent change on record (the customer texted START after it) changes nothing and says so"
    )
    func staleOptOut() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.outbound)
        let seeded = try await fleet.seedConversation(acme, phone: "+15552240003", consent: .subscribed)
        try await fleet.withStore {
            _ = try await $0.applyConsent(
                ConsentChange(
                    accountId: "acme", phone: seeded.phone, state: .subscribed, at: Date().addingTimeInterval(3600),
                    source: ConsentSource.keyword(.optIn)))
        }
        let reply = try await fleet.agentReply(acme, ticketId: seeded.ticketId, body: "#optout")
        #expect(
            try await OutboundEndToEndTests.replyAndAwaitOneNoteEach(fleet, [(acme, seeded.ticketId, reply)]),
            "\(fleet.logs)")
        let note = try await fleet.notes(acme, seeded.ticketId).first ?? ""
        #expect(note.contains("could not be opted out") && note.contains("newer consent change"), "\(note)")
        #expect(try await subscriber(fleet, seeded.phone)?.state == .subscribed)
        await fleet.shutdown()
    }

    @Test(
        "a reply on another ticket of the same customer (one another app opened, channel api) is not texted, and the conversation keeps its SMS ticket"
    )
    func foreignTicketIsNotHijacked() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.outbound)
        try await fleet.start(.inbound)
        let seeded = try await fleet.seedConversation(acme, phone: "+15552240004", consent: .subscribed)
        let customerId = try #require(
            try await fleet.withStore { try await $0.conversation(accountId: "acme", phone: seeded.phone) }?
                .customerId)
        let other = try await HTTPClient.withClient { http in
            try await GorgiasClient(
                baseURL: fleet.sandbox.gorgiasBaseURL("acme"),
                credentials: .apiKey(email: "ops@acme.example", key: acme.gorgiasKey), accountId: "acme", http: http,
                limiter: UnlimitedRateLimiter()
            ).createTicket(
                GorgiasNewTicket(
                    channel: "api", via: "api", fromAgent: false, status: "open", subject: "Invoice", externalId: nil,
                    customer: GorgiasPersonRef(id: customerId), tags: nil,
                    messages: [
                        GorgiasNewMessage(
                            channel: "api", via: "api", fromAgent: false, sender: GorgiasPersonRef(id: customerId),
                            bodyText: "Please send my invoice")
                    ]))
        }
        let reply = try await fleet.agentReply(acme, ticketId: other.id, body: "Invoice attached.")
        // The hint may be missing: the worker must decide on the ticket itself.
        try await fleet.produce([fleet.replyEvent(acme, ticketId: other.id, messageId: reply, channel: nil)])
        try await Task.sleep(for: .seconds(3))
        #expect(try await fleet.sms(acme).isEmpty, "the reply on the other ticket was not texted")
        #expect(
            try await fleet.withStore { try await $0.conversation(accountId: "acme", phone: seeded.phone) }?
                .currentTicketId == seeded.ticketId, "the conversation kept its SMS ticket")
        await fleet.shutdown()
    }
}
