import Foundation
import Testing
import Ingress
import LocalFleet
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import SwitchboardSMS
import TestSupport
import SwitchboardStore

/// Consent first and on its own (issue 14): an opt-out is recorded and confirmed whatever Gorgias does, is never lost
/// for a disconnected or unknown account, follows the provider's word, and each keyword gets exactly one reply.
@Suite("Consent first, end to end", .serialized, .timeLimit(.minutes(10)))
struct ConsentFirstTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    func text(_ account: E2EFleet.TestAccount, from: String, _ body: String, sid: String, optOutType: String? = nil)
        -> OutgoingRecord
    {
        InboundText(
            accountId: account.id, messageSid: sid, from: from, to: account.number, body: body, receivedAt: Date(),
            optOutType: optOutType
        )
        .record(id: sid, source: "test")
    }

    func state(_ fleet: E2EFleet, _ account: String, _ phone: String) async -> ConsentState? {
        try? await fleet.withStore { try await $0.subscriber(accountId: account, phone: phone)?.state }
    }

    func tickets(_ fleet: E2EFleet, _ account: String) async throws -> [JSONValue] {
        try await fleet.gorgias(account)["tickets"]?.arrayValue ?? []
    }

    @Test(
        "with Gorgias failing every call, STOP and START are recorded within 1 s and confirmed within 5 s; notes and the close follow once Gorgias is back; nothing is dead-lettered"
    )
    func gorgiasDown() async throws {
        // A low breaker threshold: the texts failing on Gorgias open its circuit quickly, which must not hold consent back.
        let fleet = try await E2EFleet(environment: ["CIRCUIT_BREAKER_THRESHOLD": "2"])
        try await fleet.addAccount(acme, twilioOptOutHandling: false) { $0.consentReplies = .switchboard }
        try await fleet.start(.inbound)
        let phone = "+15551210001"
        try await fleet.produce([text(acme, from: phone, "Where is my order?", sid: "SM-g1")])
        #expect(await eventually { (try? await tickets(fleet, "acme").count) == 1 }, "\(fleet.logs)")
        let ticketId = try #require(try await tickets(fleet, "acme").first?["id"]?.intValue)

        try await fleet.sandbox.post("/sandbox/faults", ["gorgiasFailRate": 1])
        try await fleet.produce(
            (0..<4).map { text(acme, from: "+1555121010\($0)", "hello \($0)", sid: "SM-g-busy\($0)") })
        #expect(
            await eventually(timeout: .seconds(20)) {
                metricSum(await fleet.workers[0].metrics(), "switchboard_circuit_open", matching: "gorgias") == 1
            },
            "the texts failing on Gorgias open its circuit")

        let stopSent = ContinuousClock.now
        try await fleet.produce([text(acme, from: phone, "STOP", sid: "SM-g2")])
        #expect(
            await eventually(timeout: .seconds(1), every: .milliseconds(20)) {
                await state(fleet, "acme", phone) == .unsubscribed
            },
            "the STOP is recorded within 1 s while Gorgias fails every call:\n\(fleet.logs)")
        #expect(
            await eventually(timeout: .seconds(5) - (ContinuousClock.now - stopSent)) {
                (try? await fleet.sent(acme, to: phone).contains {
                    $0["body"]?.stringValue?.contains("unsubscribed") == true
                }) == true
            }, "the confirmation goes out within 5 s")
        #expect(try await fleet.notes(acme, ticketId).isEmpty, "no note while Gorgias is down")

        let startSent = ContinuousClock.now
        try await fleet.produce([text(acme, from: phone, "START", sid: "SM-g3")])
        #expect(
            await eventually(timeout: .seconds(1), every: .milliseconds(20)) {
                await state(fleet, "acme", phone) == .subscribed
            })
        #expect(
            await eventually(timeout: .seconds(5) - (ContinuousClock.now - startSent)) {
                (try? await fleet.sent(acme, to: phone).count) == 2
            })

        try await fleet.sandbox.post("/sandbox/faults", ["gorgiasFailRate": 0])
        #expect(
            await eventually(timeout: .seconds(60)) { (try? await fleet.notes(acme, ticketId).count) == 2 },
            "\(fleet.logs)")
        let notes = try await fleet.notes(acme, ticketId)
        #expect(
            notes.first?.contains("opted out of SMS by texting \"STOP\"") == true
                && notes.last?.contains("re-subscribed") == true)
        #expect(
            await eventually {
                (try? await tickets(fleet, "acme").first { $0["id"]?.intValue == ticketId }?["status"]) == "closed"
            })
        #expect(try await fleet.sent(acme, to: phone).count == 2, "one confirmation each, never repeated")
        #expect(
            await eventually(timeout: .seconds(30)) { (try? await tickets(fleet, "acme").count) == 5 },
            "the texts held by the circuit go through once Gorgias answers")
        for topic in ["sms.consent.dlq", "sms.inbound.dlq"] {
            #expect(try await fleet.broker.allRecords(topic).isEmpty, "\(topic) is empty")
        }
        await fleet.shutdown()
    }

    @Test(
        "a STOP sent while the account is disconnected still blocks replies after reconnecting; a STOP for an unknown account waits in the DLQ with its reason"
    )
    func disconnectedAndUnknown() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let phone = "+15551210002"
        let seeded = try await fleet.seedConversation(acme, phone: phone, consent: .subscribed)
        try await fleet.withStore { _ = try await $0.setAccountStatus(id: "acme", .disconnected) }
        try await fleet.start(.inbound)
        try await fleet.start(.outbound)
        let callsBefore = try await fleet.gorgias("acme")["calls"]?.intValue ?? 0
        try await fleet.produce([
            text(acme, from: phone, "stop", sid: "SM-x1"),
            text(E2EFleet.TestAccount(id: "nobody"), from: phone, "STOP", sid: "SM-x2"),
        ])
        #expect(await eventually { await state(fleet, "acme", phone) == .unsubscribed }, "\(fleet.logs)")
        let dead = try await fleet.broker.read("sms.consent.dlq", atLeast: 1)
        #expect(dead.count == 1 && dead.first?.header(FailureHeaders.errorClass) == "account.unknown_opt_out")
        #expect(dead.first?.header(FailureHeaders.deadLetterKind) == "rejected")
        #expect(
            dead.first?.header(FailureHeaders.errorMessage)?.contains("redrive it once the account is added") == true)
        #expect(
            try await fleet.gorgias("acme")["calls"]?.intValue == callsBefore,
            "a disconnected account gets no Gorgias call")
        #expect(try await fleet.sms(acme).isEmpty, "and no SMS")

        try await fleet.withStore { _ = try await $0.setAccountStatus(id: "acme", .connected) }
        try await Task.sleep(for: .seconds(1.5))  // ACCOUNT_CACHE_TTL
        let reply = try await fleet.agentReply(acme, ticketId: seeded.ticketId, body: "Here is a coupon!")
        try await fleet.produce([fleet.replyEvent(acme, ticketId: seeded.ticketId, messageId: reply)])
        #expect(
            await eventually {
                (try? await fleet.notes(acme, seeded.ticketId).contains {
                    $0.contains("not sent by SMS") && $0.contains("unsubscribed")
                }) == true
            },
            "\(fleet.logs)")
        #expect(try await fleet.sent(acme, to: phone).isEmpty)
        await fleet.shutdown()
    }

    @Test(
        "a signed webhook with OptOutType=STOP and body ARRET unsubscribes the customer, adds nothing to Gorgias, and a later reply is blocked"
    )
    func providerOptOutType() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let phone = "+15551210003"
        let seeded = try await fleet.seedConversation(acme, phone: phone, consent: .subscribed)
        let ingress = try await fleet.startIngress()
        let endpoints = try await ingress.register(acme)
        try await fleet.start(.inbound)
        try await fleet.start(.outbound)
        let messagesBefore = try await fleet.ticketMessages(acme, seeded.ticketId).count

        // What Twilio's Advanced Opt-Out sends for a merchant's French keyword.
        let form = [
            ("MessageSid", "SMarret0000000000000000000000000001"), ("AccountSid", acme.twilioSid), ("From", phone),
            ("To", acme.number),
            ("Body", "ARRET"), ("NumMedia", "0"), ("OptOutType", "STOP"), ("SmsStatus", "received"),
            ("ApiVersion", "2010-04-01"),
        ]
        let response = try await HTTPClient.withClient { http in
            try await http.execute(
                APIRequest(
                    method: "POST", url: endpoints.inbound,
                    headers: [
                        ("Content-Type", "application/x-www-form-urlencoded"),
                        (
                            "X-Twilio-Signature",
                            TwilioSignature.compute(
                                url: endpoints.inbound, parameters: form, key: acme.twilioToken)
                        ),
                    ],
                    body: Array(FormEncoding.encode(form).utf8)
                ))
        }
        #expect(response.status == 200)
        #expect(
            try await fleet.broker.read(EventKind.consentTopic, atLeast: 1).count == 1,
            "the ingress routes it to sms.consent")
        #expect(await eventually { await state(fleet, "acme", phone) == .unsubscribed }, "\(fleet.logs)")
        let history = try await fleet.withStore { try await $0.consentHistory(accountId: "acme", phone: phone) }
        #expect(history.last?.source == "provider-keyword:STOP" && history.last?.keyword == "ARRET")
        #expect(history.last?.eventId == "SMarret0000000000000000000000000001")

        let reply = try await fleet.agentReply(acme, ticketId: seeded.ticketId, body: "Still there?")
        #expect(
            await eventually {
                (try? await fleet.notes(acme, seeded.ticketId).contains { $0.contains("not sent by SMS") }) == true
            }, "\(fleet.logs)")
        let messages = try await fleet.ticketMessages(acme, seeded.ticketId)
        #expect(
            !messages.contains { $0["body_text"]?.stringValue == "ARRET" }, "the keyword never becomes a ticket message"
        )
        #expect(
            messages.filter { $0["channel"] != "internal-note" }.count == messagesBefore + 1,
            "only the agent's reply was added: \(reply)")
        #expect(try await tickets(fleet, "acme").count == 1)
        #expect(try await fleet.gorgias("acme")["customers"]?.arrayValue?.count == 1)
        #expect(try await fleet.sent(acme, to: phone).isEmpty)
        await ingress.stop()
        await fleet.shutdown()
    }

    @Test(
        "STOP, START and HELP each get exactly one reply: from Twilio's default handling by default, from Switchboard when it answers"
    )
    func oneReplyPerKeyword() async throws {
        let fleet = try await E2EFleet()
        let byProvider = E2EFleet.TestAccount(id: "prov", number: "+15557650001")
        let bySwitchboard = E2EFleet.TestAccount(id: "own", number: "+15557650002")
        try await fleet.addAccount(byProvider)
        try await fleet.addAccount(bySwitchboard, twilioOptOutHandling: false) { $0.consentReplies = .switchboard }
        let ingress = try await fleet.startIngress()
        try await fleet.start(.inbound)
        let phone = "+15551210004"
        for account in [byProvider, bySwitchboard] {
            let endpoints = try await ingress.register(account)
            for (keyword, expected) in [("STOP", ConsentState.unsubscribed), ("START", .subscribed)] {
                try await fleet.customerTexts(account, from: phone, keyword, to: endpoints)
                #expect(
                    await eventually { await state(fleet, account.id, phone) == expected },
                    "\(account.id) \(keyword):\n\(fleet.logs)")
            }
            try await fleet.customerTexts(account, from: phone, "help", to: endpoints)
        }
        for account in [byProvider, bySwitchboard] {
            #expect(
                await eventually {
                    (try? await fleet.sms(account).filter {
                        $0["direction"] != "inbound" && $0["to"]?.stringValue == phone
                    }.count) == 3
                },
                "\(account.id):\n\(fleet.logs)")
        }
        try await Task.sleep(for: .seconds(2))
        for account in [byProvider, bySwitchboard] {
            let replies = try await fleet.sms(account).filter {
                $0["direction"] != "inbound" && $0["to"]?.stringValue == phone
            }
            let bodies = replies.compactMap { $0["body"]?.stringValue?.lowercased() }
            #expect(replies.count == 3, "\(account.id): exactly one reply per keyword, got \(bodies)")
            #expect(
                bodies.filter { $0.contains("unsubscribed") }.count == 1
                    && bodies.filter { $0.contains("subscribed") && !$0.contains("unsubscribed") }.count == 1)
            #expect(
                bodies.filter { $0.contains("rates may apply") }.count == 2,
                "the START confirmation and the HELP answer carry the rates line")
            let direction = account.id == "prov" ? "outbound-reply" : "outbound-api"
            #expect(
                replies.allSatisfy { $0["direction"]?.stringValue == direction },
                "\(account.id) replies come from \(direction)")
        }
        let help = try #require(try await fleet.sent(bySwitchboard, to: phone).last?["body"]?.stringValue)
        #expect(help.contains("Brand own") && help.contains("help@own.example") && help.contains("STOP"), "\(help)")
        await ingress.stop()
        await fleet.shutdown()
    }
}
