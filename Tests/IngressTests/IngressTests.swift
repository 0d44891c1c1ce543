import Foundation
import Logging
import Testing
@testable import Ingress
import SwitchboardEvents
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardStore
import TestSupport
@testable import WorkerKit
import SwitchboardSMS
import SwitchboardDomain
import SwitchboardKafka

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
        let record = try #require(try WebhookTranslator.gorgiasEvents(accountId: "acme", body: rendered).only)
        #expect(record.topic == "helpdesk.replies" && record.key == Array("acme:42".utf8))
        let event = try EventDecoder().decode(Array(record.value), sourceTopic: record.topic).get()
        let message = try HelpdeskMessage(event)
        #expect(
            message.fromAgent == true && message.isPublic == true && message.senderId == 7 && message.messageId == 77)

        let closed: JSONValue = [
            "event_type": "ticket-updated", "ticket_id": "42", "ticket_status": "closed",
            "updated": "2026-11-24T10:00:00",
        ]
        let status = try #require(try WebhookTranslator.gorgiasEvents(accountId: "acme", body: closed).only)
        #expect(status.topic == "helpdesk.ticket-status")
        #expect(
            try TicketUpdate(EventDecoder().decode(Array(status.value), sourceTopic: status.topic).get()).status
                == .closed)
        #expect(
            try WebhookTranslator.gorgiasEvents(
                accountId: "acme", body: ["event_type": "ticket-assigned", "ticket_id": "42"]
            ).isEmpty)
        #expect(throws: WebhookError.self) {
            try WebhookTranslator.gorgiasEvents(accountId: "acme", body: ["event_type": "ticket-updated"])
        }
    }

    @Test(
        "with {{event.type}} rendered empty (the reference documents no event variable), the payload decides: a message id is a reply, a status a ticket change"
    )
    func infersTheEventWithoutItsType() throws {
        let reply: JSONValue = [
            "event_type": "", "ticket_id": "42", "message_id": "77", "from_agent": "True", "message_public": "True",
            "message_channel": "sms", "ticket_status": "open", "updated": "2026-11-24T10:00:00",
        ]
        let records = try WebhookTranslator.gorgiasEvents(accountId: "acme", body: reply)
        #expect(Set(records.map(\.topic)) == ["helpdesk.replies", "helpdesk.ticket-status"])
        let closed: JSONValue = [
            "event_type": "None", "ticket_id": "42", "message_id": "None", "ticket_status": "closed",
            "updated": "2026-11-24T10:00:00",
        ]
        #expect(
            try WebhookTranslator.gorgiasEvents(accountId: "acme", body: closed).map(\.topic) == [
                "helpdesk.ticket-status"
            ])
        // A known type narrows it: a reply's ticket status is not sent on as a status change.
        var typed = reply.objectValue ?? [:]
        typed["event_type"] = "ticket-message-created"
        #expect(
            try WebhookTranslator.gorgiasEvents(accountId: "acme", body: .object(typed)).map(\.topic) == [
                "helpdesk.replies"
            ])
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

            // A customer texts: Twilio posts where connect pointed the number, signed → sms.inbound.
            #expect(endpoints.inboundRegistered, "\(endpoints.inboundRoute ?? "no route read")")
            let sent = try await fleet.sandbox.post(
                "/sandbox/twilio/\(acme.twilioSid)/inbound",
                ["from": "+15551230000", "to": .string(acme.number), "body": "Where is my order?"])
            #expect(sent["webhook"]?.stringValue == endpoints.inbound)
            let inbound = try await fleet.broker.read("sms.inbound", atLeast: 1)
            let text = try InboundText(EventDecoder().decode(inbound[0].value, sourceTopic: "sms.inbound").get())
            #expect(text.messageSid == sent["sid"]?.stringValue && text.body == "Where is my order?")

            // An agent replies in Gorgias: the HTTP integration → helpdesk.replies.
            let account = try #require(try await store.account(id: "acme"))
            #expect(account.gorgiasIntegrationId != nil && account.settings.statusCallbackURL == endpoints.status)
            // The integration's secret travels in its header only, never in the URL proxies and access logs keep.
            let registered = try #require(try await fleet.gorgias("acme")["integrations"]?.arrayValue?.first)
            #expect(registered["http"]?["url"]?.stringValue == endpoints.gorgias, "\(registered)")
            #expect(registered["http"]?["headers"]?[IngressRegistration.secretHeader] != nil)
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

    @Test(
        "a webhook a Twilio Webhook Rule signs with a shared key (HMAC-SHA256, announced in its settings header) is taken with the account's sealed key, refused without it"
    )
    func sharedKeySignatures() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.sandbox.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(acme.twilioSid), "authToken": .string(acme.twilioToken),
                "numbers": .object([acme.number: ["sms": true]]),
                "webhookKey": ["id": "KS0001", "secret": "shared-secret-1"],
            ])
        let ingress = try await fleet.startIngress()
        let endpoints = try await ingress.register(acme)
        func text(_ body: String) async throws -> String? {
            let sent = try await fleet.sandbox.post(
                "/sandbox/twilio/\(acme.twilioSid)/inbound",
                ["from": "+15551230000", "to": .string(acme.number), "body": .string(body)])
            return sent["sid"]?.stringValue
        }
        // The account has no shared key yet: the signed webhook is refused (the sandbox retries, then gives up).
        _ = try await text("before the key")
        #expect(try await fleet.broker.read("sms.inbound", atLeast: 1, timeout: .seconds(3)).isEmpty)
        let box = try SecretBox(base64Key: fleet.secretKey)
        try await fleet.withStore { store in
            var account = try #require(try await store.account(id: "acme"))
            var credentials = try account.credentials(box)
            credentials.smsWebhookKeys = ["KS0001": "shared-secret-1"]
            account.sealedCredentials = try credentials.sealed(box)
            try await store.updateAccount(account)
        }
        let sid = try await text("after the key")
        let inbound = try await fleet.broker.read("sms.inbound", atLeast: 1)
        let received = try InboundText(EventDecoder().decode(inbound[0].value, sourceTopic: "sms.inbound").get())
        #expect(received.messageSid == sid && received.body == "after the key")
        #expect(endpoints.inboundRegistered)
        await ingress.stop()
        await fleet.shutdown()
    }
}

extension Array {
    /// The one element, or nil when there are none or several.
    var only: Element? { count == 1 ? first : nil }
}
