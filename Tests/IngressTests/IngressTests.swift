import Foundation
import Logging
import Testing

@testable import Ingress
@testable import Shared
import TestSupport

/// The ingress turns the sandbox's signed webhooks into schema-valid events on the right topics.
@Suite("Ingress", .serialized, .timeLimit(.minutes(3)))
struct IngressTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    @Test("Gorgias' rendered template (stringly booleans, None) becomes a valid event; other events are ignored")
    func translatesGorgiasTemplates() throws {
        let rendered: JSONValue = [
            "event_type": "ticket-message-created", "ticket_id": "42", "message_id": "77", "from_agent": "True",
            "message_public": "True", "message_channel": "sms", "message_via": "helpdesk", "sender_id": "7",
            "message_created": "2026-11-24T10:00:00.123456", "snooze": "None",
        ]
        let record = try #require(try WebhookTranslator.gorgiasEvent(accountId: "acme", body: rendered))
        #expect(record.topic == "helpdesk.replies" && record.key == Array("acme:42".utf8))
        let event = try EventDecoder().decode(Array(record.value), sourceTopic: record.topic).get()
        let message = try HelpdeskMessage(event)
        #expect(
            message.fromAgent == true && message.isPublic == true && message.senderId == 7 && message.messageId == 77)

        let closed: JSONValue = [
            "event_type": "ticket-updated", "ticket_id": "42", "ticket_status": "closed",
            "updated": "2026-11-24T10:00:00",
        ]
        let status = try #require(try WebhookTranslator.gorgiasEvent(accountId: "acme", body: closed))
        #expect(status.topic == "helpdesk.ticket-status")
        #expect(
            try TicketUpdate(EventDecoder().decode(Array(status.value), sourceTopic: status.topic).get()).status
                == .closed)
        #expect(
            try WebhookTranslator.gorgiasEvent(
                accountId: "acme", body: ["event_type": "ticket-assigned", "ticket_id": "42"]) == nil)
        #expect(throws: WebhookError.self) {
            try WebhookTranslator.gorgiasEvent(accountId: "acme", body: ["event_type": "ticket-updated"])
        }
    }

    @Test("Twilio's inbound and status forms become valid events; a form without MessageSid is refused")
    func translatesTwilioForms() throws {
        let form = [
            ("MessageSid", "SM1"), ("From", "+15551230000"), ("To", "+15557654321"), ("Body", "hi"), ("NumMedia", "1"),
            ("MediaUrl0", "https://media.example/a.jpg"), ("MediaContentType0", "image/jpeg"),
        ]
        let inbound = try WebhookTranslator.inboundText(accountId: "acme", form: form)
        #expect(inbound.topic == "sms.inbound" && inbound.key == Array("acme:+15551230000".utf8))
        let text = try InboundText(EventDecoder().decode(Array(inbound.value), sourceTopic: inbound.topic).get())
        #expect(text.media.first?.contentType == "image/jpeg" && text.body == "hi")
        let status = try WebhookTranslator.deliveryStatus(
            accountId: "acme", form: [("MessageSid", "SM2"), ("MessageStatus", "undelivered"), ("ErrorCode", "30003")])
        #expect(
            try DeliveryUpdate(EventDecoder().decode(Array(status.value), sourceTopic: status.topic).get()).errorCode
                == 30003)
        #expect(throws: WebhookError.self) {
            try WebhookTranslator.inboundText(accountId: "acme", form: [("From", "+15551230000")])
        }
    }

    @Test(
        "signed webhooks from the sandbox reach Kafka; bad signatures and secrets are refused; registration is undone on disconnect"
    )
    func webhooksToKafka() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let box = try SecretBox(base64Key: fleet.secretKey)
        let producer = fleet.broker.producer
        try await fleet.withStore { store in
            let http = HTTPClient()
            let directory = AccountDirectory(
                store: store, box: box, http: http, limiter: UnlimitedRateLimiter(), ttl: .milliseconds(1))
            let ingress = IngressServer(
                configuration: .init(), accounts: directory, producer: producer, receipts: store,
                logger: Logger(label: "ingress-test"))
            let running = Task { try await ingress.run() }
            let base = await ingress.url()
            let endpoints = try await IngressRegistration.connect(
                accountId: "acme", ingressURL: base, store: store, box: box, http: http)

            // A customer texts: Twilio's signed webhook → sms.inbound.
            let sent = try await fleet.sandbox.post(
                "/sandbox/twilio/\(acme.twilioSid)/inbound",
                [
                    "from": "+15551230000", "to": .string(acme.number), "body": "Where is my order?",
                    "url": .string(endpoints.inbound),
                ])
            let inbound = try await fleet.broker.read("sms.inbound", atLeast: 1)
            let text = try InboundText(EventDecoder().decode(inbound[0].value, sourceTopic: "sms.inbound").get())
            #expect(text.messageSid == sent["sid"]?.stringValue && text.body == "Where is my order?")

            // An agent replies in Gorgias: the HTTP integration → helpdesk.replies.
            let account = try #require(try await store.account(id: "acme"))
            #expect(account.gorgiasIntegrationId != nil && account.settings.statusCallbackURL == endpoints.status)
            let seeded = try await fleet.seedConversation(acme, phone: "+15551230000", consent: .subscribed)
            try await fleet.agentReply(acme, ticketId: seeded.ticketId, body: "On its way!")
            let replies = try await fleet.broker.read("helpdesk.replies", atLeast: 2)
            let messages = try replies.map {
                try HelpdeskMessage(EventDecoder().decode($0.value, sourceTopic: "helpdesk.replies").get())
            }
            #expect(messages.map(\.fromAgent) == [false, true], "the customer's first message, then the agent's reply")
            #expect(messages.allSatisfy { $0.ticketId == seeded.ticketId } && messages.last?.via == "helpdesk")

            // A send with the registered status callback → sms.delivery-status, in Twilio's order.
            let message = try await AccountDirectory.entry(for: account, box: box, http: http).sms.send(
                to: "+15551230000", sender: .number(acme.number), body: "On its way!", statusCallback: endpoints.status
            )
            let statuses = try await fleet.broker.read("sms.delivery-status", atLeast: 3)
            let updates = try statuses.map {
                try DeliveryUpdate(EventDecoder().decode($0.value, sourceTopic: "sms.delivery-status").get())
            }
            #expect(updates.allSatisfy { $0.messageSid == message.sid })
            #expect(updates.map(\.status).suffix(1) == ["delivered"])

            // Forged calls are refused and produce nothing.
            let forgedTwilio = try await http.execute(
                APIRequest(
                    method: "POST", url: endpoints.inbound,
                    headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", "AAAA")],
                    body: Array(
                        FormEncoding.encode([
                            ("MessageSid", "SMforged"), ("From", "+15550000000"), ("To", acme.number), ("Body", "x"),
                        ]).utf8)
                ))
            #expect(forgedTwilio.status == 403)
            let forgedGorgias = try await http.execute(
                APIRequest(
                    method: "POST", url: endpoints.gorgias + "?k=wrong",
                    headers: [("Content-Type", "application/json")],
                    body: Array(#"{"event_type":"ticket-updated","ticket_id":"1","ticket_status":"closed"}"#.utf8)
                ))
            #expect(forgedGorgias.status == 403)
            #expect(try await fleet.broker.read("sms.inbound", atLeast: 2, timeout: .seconds(8)).count == 1)

            try await IngressRegistration.disconnect(accountId: "acme", store: store, box: box, http: http)
            #expect(try await fleet.gorgias("acme")["integrations"]?.arrayValue?.isEmpty == true)
            running.cancel()
            await http.shutdown()
        }
        await fleet.shutdown()
    }
}
