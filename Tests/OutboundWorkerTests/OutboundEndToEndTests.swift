import Foundation
import Testing
import LocalFleet
import ProviderContracts
@testable import Sandbox
import SwitchboardDomain
import SwitchboardKafka
import TestSupport
import SwitchboardJSON
import SwitchboardStore

/// The real OutboundWorker process: what the customer received (the sandbox's SMS log) and what the agent sees
/// (the ticket's notes), for every branch.
@Suite("OutboundWorker end to end", .serialized, .timeLimit(.minutes(15)))
struct OutboundEndToEndTests {
    let acme = E2EFleet.TestAccount(id: "acme", oauth: true)

    @Test(
        "a public reply is sent as clean text from the account's sender, with its id, segments and status callback recorded"
    )
    func sendsReply() async throws {
        let receiver = try await WebhookReceiver()
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme) { $0.statusCallbackURL = receiver.url + "/status" }
        try await fleet.start(.outbound)
        let customer = try await fleet.seedConversation(acme, phone: "+15552220001", consent: .subscribed)
        let first = try await fleet.agentReply(
            acme, ticketId: customer.ticketId, body: "",
            html: "<p>Your order <b>shipped</b>!</p><p>Track it &amp; smile.</p>")
        let second = try await fleet.agentReply(acme, ticketId: customer.ticketId, body: "Anything else?")
        try await fleet.produce([
            fleet.replyEvent(acme, ticketId: customer.ticketId, messageId: first),
            fleet.replyEvent(acme, ticketId: customer.ticketId, messageId: second),
        ])
        #expect(await eventually { (try? await fleet.sent(acme, to: customer.phone).count) == 2 }, "\(fleet.logs)")
        let sms = try await fleet.sent(acme, to: customer.phone)
        #expect(
            sms.map { $0["body"]?.stringValue ?? "" } == ["Your order shipped!\nTrack it & smile.", "Anything else?"],
            "replies arrive in the order the agent wrote them")
        #expect(sms.first?["from"] == "+15557654321")
        let record = try await fleet.withStore {
            try await $0.outbound(
                id: OutboundMessage.id(accountId: "acme", ticketId: customer.ticketId, messageId: first))
        }
        #expect(
            record?.state.rank ?? 0 >= OutboundState.sent.rank && record?.providerSid == sms.first?["sid"]?.stringValue
                && record?.segments == 1)
        #expect(await receiver.waitFor(2).contains { $0.formValue("MessageSid") == sms.first?["sid"]?.stringValue })
        #expect(try await fleet.notes(acme, customer.ticketId).isEmpty)
        await fleet.shutdown()
    }

    @Test("unsubscribed, never confirmed or unknown recipients get nothing; the agent gets a note naming the reason")
    func blockedRecipients() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.outbound)
        let cases: [(ConsentState?, String, String)] = [
            (.unsubscribed, "+15552220002", "unsubscribed"),
            (.pending, "+15552220003", "has not confirmed SMS consent"),
            (nil, "+15552220004", "no SMS consent on record"),
        ]
        var tickets: [(Int64, String, String)] = []
        for (consent, phone, reason) in cases {
            let customer = try await fleet.seedConversation(acme, phone: phone, consent: consent)
            let message = try await fleet.agentReply(acme, ticketId: customer.ticketId, body: "Hello!")
            try await fleet.produce([fleet.replyEvent(acme, ticketId: customer.ticketId, messageId: message)])
            tickets.append((customer.ticketId, phone, reason))
        }
        for (ticketId, phone, reason) in tickets {
            #expect(await eventually { (try? await fleet.notes(acme, ticketId).count) == 1 }, "\(fleet.logs)")
            #expect(try await fleet.notes(acme, ticketId).first?.contains(reason) == true)
            #expect(try await fleet.sent(acme, to: phone).isEmpty)
        }
        await fleet.shutdown()
    }

    @Test("#optout unsubscribes, sends nothing, notes and closes; when it cannot opt out the note says why")
    func agentOptOut() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.outbound)
        let subscribed = try await fleet.seedConversation(acme, phone: "+15552220005", consent: .subscribed)
        let already = try await fleet.seedConversation(acme, phone: "+15552220006", consent: .unsubscribed)
        let optOut = try await fleet.agentReply(
            acme, ticketId: subscribed.ticketId, body: "Customer asked by phone to stop texts #OptOut")
        let again = try await fleet.agentReply(acme, ticketId: already.ticketId, body: "#opt-out please")
        #expect(
            try await Self.replyAndAwaitOneNoteEach(
                fleet, [(acme, subscribed.ticketId, optOut), (acme, already.ticketId, again)]))
        #expect(try await fleet.notes(acme, subscribed.ticketId).first?.contains("opted out of SMS") == true)
        #expect(try await fleet.notes(acme, already.ticketId).first?.contains("already unsubscribed") == true)
        #expect(
            try await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: "+15552220005") }?.source
                == "agent:#optout")
        let tickets = try await fleet.gorgias("acme")["tickets"]?.arrayValue ?? []
        #expect(tickets.first { $0["id"]?.intValue == subscribed.ticketId }?["status"] == "closed")
        #expect(try await fleet.sms(acme).isEmpty)
        await fleet.shutdown()
    }

    @Test("images go as MMS, unsupported attachments and over-long bodies produce notes instead of silent drops")
    func contentLimits() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.outbound)
        let customer = try await fleet.seedConversation(acme, phone: "+15552220007", consent: .subscribed)
        let withMedia = try await fleet.agentReply(
            acme, ticketId: customer.ticketId, body: "Here you go",
            attachments: [
                ["url": "https://files.example/label.png", "name": "label.png", "content_type": "image/png"],
                ["url": "https://files.example/invoice.pdf", "name": "invoice.pdf", "content_type": "application/pdf"],
            ])
        let tooLong = try await fleet.agentReply(
            acme, ticketId: customer.ticketId, body: String(repeating: "a", count: 1700))
        try await fleet.produce([
            fleet.replyEvent(acme, ticketId: customer.ticketId, messageId: withMedia),
            fleet.replyEvent(acme, ticketId: customer.ticketId, messageId: tooLong),
        ])
        #expect(await eventually { (try? await fleet.notes(acme, customer.ticketId).count) == 2 }, "\(fleet.logs)")
        let sms = try await fleet.sent(acme, to: customer.phone)
        #expect(
            sms.count == 1 && sms.first?["media_urls"] == ["https://files.example/label.png"]
                && sms.first?["body"] == "Here you go")
        let notes = try await fleet.notes(acme, customer.ticketId)
        #expect(notes.contains { $0.contains("invoice.pdf") })
        #expect(notes.contains { $0.contains("1700 characters") })
        await fleet.shutdown()
    }

    @Test("a provider opt-out refusal (21610) unsubscribes with a note; other refusals are explained in words")
    func providerRefusals() async throws {
        let fleet = try await E2EFleet()
        let badSender = E2EFleet.TestAccount(id: "badsender")
        try await fleet.addAccount(acme)
        try await fleet.addAccount(badSender)
        try await fleet.withStore { store in
            var account = try await store.account(id: "badsender")!
            account.smsSender = .messagingService("MGnot-a-valid-service")
            try await store.updateAccount(account)
        }
        try await fleet.start(.outbound)
        let blocked = try await fleet.seedConversation(acme, phone: "+15552220008", consent: .subscribed)
        // The customer's STOP reaches Twilio (which blocks the pair); nobody at Switchboard hears of it.
        try await fleet.sandbox.post(
            "/sandbox/twilio/\(acme.twilioSid)/inbound",
            ["from": .string(blocked.phone), "to": .string(acme.number), "body": "STOP"])
        let other = try await fleet.seedConversation(badSender, phone: "+15552220009", consent: .subscribed)
        let first = try await fleet.agentReply(acme, ticketId: blocked.ticketId, body: "Are you there?")
        let second = try await fleet.agentReply(badSender, ticketId: other.ticketId, body: "Hello")
        #expect(
            try await Self.replyAndAwaitOneNoteEach(
                fleet, [(acme, blocked.ticketId, first), (badSender, other.ticketId, second)]),
            "\(fleet.logs)")
        #expect(try await fleet.notes(acme, blocked.ticketId).first?.contains("replied STOP") == true)
        #expect(
            try await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: "+15552220008") }?.state
                == .unsubscribed)
        #expect(try await fleet.notes(badSender, other.ticketId).first?.contains("21701") == true)
        // The bad sender's id is off Twilio's contract (the refusal this test provokes); nothing else is.
        let drifts = fleet.sandbox.takeContractDrifts()
        #expect(drifts.allSatisfy { $0.problem.contains("MessagingServiceSid") } && !drifts.isEmpty, "\(drifts)")
        await fleet.shutdown()
    }

    @Test(
        "notes, customer messages, Switchboard's own messages and rule auto-replies coming back never produce an SMS; three deliveries send once"
    )
    func loopsAndDuplicates() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.outbound)
        let customer = try await fleet.seedConversation(acme, phone: "+15552220010", consent: .subscribed)
        let note = try await fleet.sandbox.post(
            "/sandbox/gorgias/acme/tickets/\(customer.ticketId)/note", ["body_text": "internal"])
        let rule = try await fleet.agentReply(
            acme, ticketId: customer.ticketId, body: "We got your message", via: "rule")
        let messages = try await fleet.ticketMessages(acme, customer.ticketId)
        let customerMessage = try #require(messages.first?["id"]?.intValue)
        let real = try await fleet.agentReply(acme, ticketId: customer.ticketId, body: "Real reply")
        let event = fleet.replyEvent(acme, ticketId: customer.ticketId, messageId: real)
        try await fleet.produce([
            // Misleading hints: the worker re-reads each message and decides on what Gorgias says.
            fleet.replyEvent(
                acme, ticketId: customer.ticketId, messageId: note["id"]!.intValue!, fromAgent: true, channel: "sms"),
            fleet.replyEvent(
                acme, ticketId: customer.ticketId, messageId: customerMessage, fromAgent: nil, channel: nil,
                isPublic: nil),
            fleet.replyEvent(acme, ticketId: customer.ticketId, messageId: rule),
            event, event, event,
        ])
        #expect(await eventually { (try? await fleet.sent(acme, to: customer.phone).count) == 1 }, "\(fleet.logs)")
        try await Task.sleep(for: .seconds(2))
        #expect(try await fleet.sent(acme, to: customer.phone).map { $0["body"]?.stringValue ?? "" } == ["Real reply"])
        let metrics = await fleet.workers[0].metrics()
        #expect(metricSum(metrics, "switchboard_records_total", matching: "outcome=\"ignored\"") >= 3)
        await fleet.shutdown()
    }

    @Test(
        "SIGKILL at random points during 500 replies with 10% sandbox 5xx: no duplicate SMS, every reply sent or explained"
    )
    func crashesUnderFaults() async throws {
        let fleet = try await E2EFleet(environment: ["KAFKA_SESSION_TIMEOUT_MS": "6000", "IN_PLACE_RETRIES": "5"])
        try await fleet.addAccount(acme)
        let conversations = 25
        var seeded: [E2EFleet.Seeded] = []
        for index in 0..<conversations {
            seeded.append(
                try await fleet.seedConversation(
                    acme, phone: "+1555230\(String(format: "%04d", index))",
                    consent: index % 10 == 9 ? .unsubscribed : .subscribed))
        }
        var events: [OutgoingRecord] = []
        for round in 0..<20 {
            for customer in seeded {
                let message = try await fleet.agentReply(
                    acme, ticketId: customer.ticketId, body: "reply \(round) to \(customer.phone)")
                events.append(fleet.replyEvent(acme, ticketId: customer.ticketId, messageId: message))
            }
        }
        try await fleet.sandbox.post("/sandbox/faults", ["failRate": 0.1])
        try await fleet.start(.outbound)
        try await fleet.produce(events)
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(Int64.random(in: 3000...9000)))
            let victim = fleet.workers.last!
            await victim.kill9()
            try await fleet.restart(victim, waitReady: true)
        }
        let expectedSMS = seeded.filter { !$0.phone.hasSuffix("9") }.count * 20
        let expectedNotes = seeded.filter { $0.phone.hasSuffix("9") }.count * 20
        #expect(
            await eventually(timeout: .seconds(400), every: .seconds(2)) {
                let sent = (try? await fleet.sms(acme).filter { $0["direction"] == "outbound-api" }.count) ?? 0
                var notes = 0
                for customer in seeded where customer.phone.hasSuffix("9") {
                    notes += (try? await fleet.notes(acme, customer.ticketId).count) ?? 0
                }
                return sent >= expectedSMS && notes >= expectedNotes
            }, "\(fleet.logs)")
        try await Task.sleep(for: .seconds(3))
        let bodies = try await fleet.sms(acme).filter { $0["direction"] == "outbound-api" }.compactMap {
            $0["body"]?.stringValue
        }
        #expect(bodies.count == expectedSMS, "sent \(bodies.count) SMS for \(expectedSMS) sendable replies")
        #expect(Set(bodies).count == bodies.count, "\(bodies.count - Set(bodies).count) duplicate SMS")
        for customer in seeded where customer.phone.hasSuffix("9") {
            #expect(try await fleet.notes(acme, customer.ticketId).count == 20)
            #expect(try await fleet.sent(acme, to: customer.phone).isEmpty, "an unsubscribed customer was texted")
        }
        await fleet.shutdown()
    }

    /// Produces a reply event for each (account, ticket, message) and waits until each ticket has exactly one note.
    static func replyAndAwaitOneNoteEach(_ fleet: E2EFleet, _ replies: [(E2EFleet.TestAccount, Int64, Int64)])
        async throws
        -> Bool
    {
        try await fleet.produce(replies.map { fleet.replyEvent($0.0, ticketId: $0.1, messageId: $0.2) })
        return await eventually {
            var counts: [Int] = []
            for (account, ticketId, _) in replies {
                counts.append((try? await fleet.notes(account, ticketId).count) ?? 0)
            }
            return counts.allSatisfy { $0 == 1 }
        }
    }
}
