import Foundation
import Testing
import Ingress
import LocalFleet
import Sandbox
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import SwitchboardSMS
import TestSupport
import SwitchboardStore

/// Texts against the providers' less kind readings (issue 15): filters Gorgias may ignore, Gorgias' own clock,
/// snoozes that end by themselves, merges, and media behind the provider's credentials.
@Suite("Inbound against the providers' real behaviour", .serialized, .timeLimit(.minutes(10)))
struct ProviderRealismTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    func text(from: String, _ body: String, sid: String, at: Date = Date()) -> OutgoingRecord {
        InboundText(accountId: "acme", messageSid: sid, from: from, to: acme.number, body: body, receivedAt: at).record(
            id: sid, source: "test")
    }

    func tickets(_ fleet: E2EFleet) async throws -> [JSONValue] {
        try await fleet.gorgias("acme")["tickets"]?.arrayValue ?? []
    }

    func client(_ fleet: E2EFleet, _ http: HTTPClient) -> GorgiasClient {
        GorgiasClient(
            baseURL: fleet.sandbox.gorgiasBaseURL("acme"),
            credentials: .apiKey(email: "ops@acme.example", key: acme.gorgiasKey), accountId: "acme",
            http: http, limiter: UnlimitedRateLimiter()
        )
    }

    @Test("with Gorgias ignoring the phone and external-id filters, every text still lands on its own customer")
    func ignoredFilters() async throws {
        let fleet = try await E2EFleet { $0.faults.ignoredListFilters = ["channel_address", "external_id"] }
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        try await fleet.produce([text(from: "+15551300001", "I am Ann", sid: "SM-f1")])
        #expect(await eventually { (try? await tickets(fleet).count) == 1 }, "\(fleet.logs)")
        try await fleet.produce([text(from: "+15551300002", "I am Bob", sid: "SM-f2")])
        #expect(await eventually { (try? await tickets(fleet).count) == 2 }, "\(fleet.logs)")
        let customers = try await fleet.gorgias("acme")["customers"]?.arrayValue ?? []
        #expect(customers.count == 2)
        for ticket in try await tickets(fleet) {
            let customer = try #require(customers.first { $0["id"] == ticket["customer"]?["id"] })
            let phone = customer["channels"]?.arrayValue?.first?["address"]?.stringValue
            let body = ticket["messages"]?.arrayValue?.first?["body_text"]?.stringValue
            #expect(
                (phone == "+15551300001" && body == "I am Ann") || (phone == "+15551300002" && body == "I am Bob"),
                "\(phone ?? "-") got \(body ?? "-")")
        }
        await fleet.shutdown()
    }

    @Test(
        "with Gorgias' clock ten minutes behind the workers', an agent's reopen after Switchboard's close still applies"
    )
    func gorgiasClock() async throws {
        let fleet = try await E2EFleet { $0.faults.gorgiasClockOffsetSeconds = -600 }
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        try await fleet.start(.status)
        let phone = "+15551300003"
        try await fleet.produce([text(from: phone, "hello", sid: "SM-c1")])
        #expect(await eventually { (try? await tickets(fleet).count) == 1 }, "\(fleet.logs)")
        let ticketId = try #require(try await tickets(fleet).first?["id"]?.intValue)
        try await fleet.produce([text(from: phone, "STOP", sid: "SM-c2")])
        #expect(
            await eventually {
                (try? await fleet.withStore { try await $0.ticket(accountId: "acme", ticketId: ticketId)?.status })
                    == .closed
            }, "\(fleet.logs)")
        // The agent reopens it in Gorgias; its webhook carries Gorgias' own time.
        try await fleet.sandbox.post("/sandbox/gorgias/acme/tickets/\(ticketId)/status", ["status": "open"])
        let reopened = try #require(try await tickets(fleet).first { $0["id"]?.intValue == ticketId })
        let at = try #require(reopened["updated_datetime"]?.stringValue.flatMap(GorgiasDate.parse))
        try await fleet.produce([
            TicketUpdate(accountId: "acme", ticketId: ticketId, status: .open, updatedAt: at).record(
                id: "reopen-\(ticketId)", source: "test")
        ])
        #expect(
            await eventually {
                (try? await fleet.withStore { try await $0.ticket(accountId: "acme", ticketId: ticketId)?.status })
                    == .open
            },
            "the reopen is not taken for stale:\n\(fleet.logs)")
        await fleet.shutdown()
    }

    @Test("a text after the ticket's snooze has ended threads onto the snoozed ticket")
    func snoozeEnds() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        let phone = "+15551300004"
        try await fleet.produce([text(from: phone, "first", sid: "SM-s1")])
        #expect(await eventually { (try? await tickets(fleet).count) == 1 }, "\(fleet.logs)")
        let ticketId = try #require(try await tickets(fleet).first?["id"]?.intValue)
        let until = Date().addingTimeInterval(2)
        try await fleet.sandbox.post(
            "/sandbox/gorgias/acme/tickets/\(ticketId)/status",
            ["status": "closed", "snooze_datetime": .string(RFC3339.format(until, fractional: true))])
        try await fleet.withStore {
            _ = try await $0.applyTicketStatus(
                TicketStatusChange(
                    accountId: "acme", ticketId: ticketId, status: .closed, snoozedUntil: until, updatedAt: Date()))
        }
        try await Task.sleep(for: .seconds(3))
        try await fleet.produce([text(from: phone, "after the snooze", sid: "SM-s2")])
        #expect(await eventually { (try? await fleet.ticketMessages(acme, ticketId).count) == 2 }, "\(fleet.logs)")
        #expect(try await tickets(fleet).count == 1, "no second ticket")
        await fleet.shutdown()
    }

    @Test(
        "another ticket of the same customer that is no merge (an `api` ticket from another tool): a reply there is not texted, and the conversation keeps its ticket"
    )
    func unmergedTicketIsNotAdopted() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        try await fleet.start(.outbound)
        let phone = "+15551300006"
        try await fleet.withStore {
            _ = try await $0.applyConsent(
                ConsentChange(
                    accountId: "acme", phone: phone, state: .subscribed, at: Date().addingTimeInterval(-60),
                    source: "test"))
        }
        try await fleet.produce([text(from: phone, "first", sid: "SM-u1")])
        #expect(await eventually { (try? await tickets(fleet).count) == 1 }, "\(fleet.logs)")
        let first = try #require(try await tickets(fleet).first)
        let firstId = try #require(first["id"]?.intValue)
        let customerId = try #require(first["customer"]?["id"]?.intValue)
        try await HTTPClient.withClient { http in
            // An order tool opens its own ticket for the customer through the API; nothing is merged.
            let other = try await client(fleet, http).createTicket(
                GorgiasNewTicket(
                    channel: "api", via: "api", fromAgent: false, status: "open", subject: "Order #1042 issue",
                    externalId: nil, customer: GorgiasPersonRef(id: customerId), tags: nil,
                    messages: [
                        GorgiasNewMessage(
                            channel: "api", via: "api", fromAgent: false, sender: GorgiasPersonRef(id: customerId),
                            bodyText: "order form")
                    ]
                ))
            let elsewhere = try await fleet.agentReply(acme, ticketId: other.id, body: "About your order form")
            let event = fleet.replyEvent(acme, ticketId: other.id, messageId: elsewhere, channel: "api")
            try await fleet.produce([event])
            #expect(
                await eventually {
                    (try? await fleet.withStore {
                        try await $0.lookup(
                            group: FleetRoster.outbound.group, eventId: "gorgias:acme:message:\(elsewhere)")
                    }) != nil
                }, "\(fleet.logs)")
            let own = try await fleet.agentReply(acme, ticketId: firstId, body: "Answered on the SMS ticket")
            try await fleet.produce([fleet.replyEvent(acme, ticketId: firstId, messageId: own)])
            #expect(
                await eventually { (try? await fleet.sent(acme, to: phone).count) == 1 }, "\(fleet.logs)")
            let sent = try await fleet.sent(acme, to: phone)
            #expect(sent.map { $0["body"]?.stringValue } == ["Answered on the SMS ticket"])
            #expect(
                try await fleet.withStore {
                    try await $0.conversation(accountId: "acme", phone: phone)?.currentTicketId
                }
                    == firstId, "the conversation still threads onto its SMS ticket")
        }
        await fleet.shutdown()
    }

    @Test(
        "a ticket merged into another and a customer merged into another keep the conversation, for texts and replies")
    func merges() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        try await fleet.start(.outbound)
        let phone = "+15551300005"
        try await fleet.withStore {
            _ = try await $0.applyConsent(
                ConsentChange(
                    accountId: "acme", phone: phone, state: .subscribed, at: Date().addingTimeInterval(-60),
                    source: "test"))
        }
        try await fleet.produce([text(from: phone, "first", sid: "SM-m1")])
        #expect(await eventually { (try? await tickets(fleet).count) == 1 }, "\(fleet.logs)")
        let first = try #require(try await tickets(fleet).first)
        let firstId = try #require(first["id"]?.intValue)
        let customerId = try #require(first["customer"]?["id"]?.intValue)
        try await HTTPClient.withClient { http in
            let gorgias = client(fleet, http)
            // Another SMS ticket of the customer (opened by another tool, say); the agent merges ours into it and answers there.
            let other = try await gorgias.createTicket(
                GorgiasNewTicket(
                    channel: "sms", via: "api", fromAgent: false, status: "open", subject: "Order question",
                    externalId: nil,
                    customer: GorgiasPersonRef(id: customerId), tags: nil,
                    messages: [
                        GorgiasNewMessage(
                            channel: "sms", via: "api", fromAgent: false, sender: GorgiasPersonRef(id: customerId),
                            bodyText: "earlier")
                    ]
                ))
            try await fleet.sandbox.post("/sandbox/gorgias/acme/tickets/\(firstId)/merge", ["into": .int(other.id)])
            let reply = try await fleet.agentReply(acme, ticketId: other.id, body: "Answered on the merged ticket")
            try await fleet.produce([fleet.replyEvent(acme, ticketId: other.id, messageId: reply, channel: nil)])
            #expect(
                await eventually { (try? await fleet.sent(acme, to: phone).count) == 1 },
                "a reply on the merged ticket is sent:\n\(fleet.logs)")
            try await fleet.produce([text(from: phone, "second", sid: "SM-m2")])
            #expect(
                await eventually {
                    (try? await fleet.ticketMessages(acme, other.id).contains { $0["body_text"] == "second" }) == true
                }, "\(fleet.logs)")

            // Gorgias merges the SMS customer into an email customer; the next ticket goes to the survivor.
            let survivor = try await gorgias.createCustomer(
                phone: "+15559990000", name: "Jane", email: "jane@example.com", externalId: "email:jane")
            try await fleet.sandbox.post(
                "/sandbox/gorgias/acme/customers/\(customerId)/merge", ["into": .int(survivor.id)])
            _ = try await gorgias.setTicketStatus(id: other.id, .closed)
            try await fleet.withStore {
                _ = try await $0.applyTicketStatus(
                    TicketStatusChange(
                        accountId: "acme", ticketId: other.id, status: .closed, snoozedUntil: nil, updatedAt: Date()))
            }
            try await fleet.produce([text(from: phone, "third", sid: "SM-m3")])
            #expect(await eventually { (try? await tickets(fleet).count) == 2 }, "\(fleet.logs)")
            let newest = try #require(try await tickets(fleet).first { $0["id"]?.intValue != other.id })
            #expect(
                newest["customer"]?["id"]?.intValue == survivor.id, "the new ticket belongs to the surviving customer")
            #expect(
                try await fleet.withStore { try await $0.conversation(accountId: "acme", phone: phone)?.customerId }
                    == survivor.id)
        }
        await fleet.shutdown()
    }

    @Test(
        "an MMS image behind Twilio's Basic auth reaches Gorgias through a Gorgias-hosted URL; an oversized one becomes a line"
    )
    func media() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let ingress = try await fleet.startIngress()
        let endpoints = try await ingress.register(acme)
        try await fleet.start(.inbound)
        try await fleet.customerTexts(
            acme, from: "+15551300006", "look",
            media: [
                ["contentType": "image/jpeg", "size": 40_000], ["contentType": "application/pdf", "size": 3_000],
                ["contentType": "image/png", "size": 6_000_000],
            ], to: endpoints)
        #expect(await eventually { (try? await tickets(fleet).count) == 1 }, "\(fleet.logs)")
        let message = try #require(try await tickets(fleet).first?["messages"]?.arrayValue?.first)
        let attachments = message["attachments"]?.arrayValue ?? []
        #expect(attachments.map { $0["content_type"]?.stringValue ?? "" } == ["image/jpeg", "application/pdf"])
        for attachment in attachments {
            let url = try #require(attachment["url"]?.stringValue)
            #expect(
                url.hasPrefix(fleet.sandbox.gorgiasBaseURL("acme") + "/files/"),
                "a Gorgias-hosted URL, not Twilio's: \(url)")
            let served = try await HTTPClient.withClient { try await $0.execute(APIRequest(url: url)) }
            #expect(served.status == 200 && MediaType.sniff(served.body) == attachment["content_type"]?.stringValue)
        }
        #expect(
            message["body_text"]?.stringValue?.contains("[Attachment image/png not imported: it is larger than 5 MB")
                == true, "\(message["body_text"]?.stringValue ?? "")")
        await ingress.stop()
        await fleet.shutdown()
    }
}
