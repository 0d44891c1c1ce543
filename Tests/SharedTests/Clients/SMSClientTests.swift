import Foundation
import Testing
import Sandbox
import SwitchboardBase
import SwitchboardHTTP
import SwitchboardSMS
import TestSupport
import SwitchboardDomain
import SwitchboardJSON

@Suite("SMS client and the Twilio sandbox", .serialized, .timeLimit(.minutes(2)))
struct SMSClientTests {
    let token = "twilio-token"

    func client(_ sandbox: SandboxFixture, _ http: HTTPClient, sid: String = "AC0000000000000000000000000000beef")
        -> SMSClient
    {
        SMSClient(baseURL: sandbox.twilioBaseURL, accountSid: sid, authToken: token, http: http)
    }

    @Test("sends SMS and MMS; status callbacks arrive signed and in order; undeliverable numbers fail with their code")
    func sendAndCallbacks() async throws {
        let sandbox = try await SandboxFixture {
            $0.autoCreateAccounts = true; $0.undeliverable["+15550000003"] = 30003
        }
        let receiver = try await WebhookReceiver()
        let http = HTTPClient()
        let sms = client(sandbox, http)
        let sent = try await sms.send(
            to: "+15551234567", sender: .number("+15557654321"), body: "Your order shipped!",
            statusCallback: receiver.url + "/status")
        #expect(sent.sid.hasPrefix("SM") && sent.sid.count == 34)
        #expect(sent.status == "queued" && sent.segments == 1 && sent.direction == "outbound-api")
        let mms = try await sms.send(
            to: "+15551234567", sender: .number("+15557654321"), body: "",
            mediaURLs: ["https://x/a.png", "https://x/b.png"])
        #expect(mms.sid.hasPrefix("MM") && mms.numMedia == "2")
        let service = try await sms.send(
            to: "+15551234567", sender: .messagingService("MG" + String(repeating: "a", count: 32)), body: "hi")
        #expect(service.status == "accepted" && service.numSegments == "0")
        _ = try await sms.send(
            to: "+15550000003", sender: .number("+15557654321"), body: "lost", statusCallback: receiver.url + "/status")
        let callbacks = await receiver.waitFor(5)
        let delivered = callbacks.filter { $0.formValue("MessageSid") == sent.sid }.compactMap {
            $0.formValue("MessageStatus")
        }
        #expect(delivered == ["sending", "sent", "delivered"])
        let failed = try #require(callbacks.first { $0.formValue("MessageStatus") == "undelivered" })
        #expect(failed.formValue("ErrorCode") == "30003")
        for callback in callbacks {
            #expect(
                TwilioSignature.isValid(
                    signature: callback.header("X-Twilio-Signature") ?? "", url: receiver.url + callback.path,
                    parameters: callback.form, key: token))
        }
        await http.shutdown()
        await sandbox.stop()
    }

    @Test(
        "refusals map to Twilio's codes and classify for the runtime",
        arguments: [
            ("not-a-number", "hi", 21211, ProcessingFailure.Kind.permanent),
            ("+15551234567", String(repeating: "x", count: 1601), 21617, .permanent),
        ])
    func refusals(to: String, body: String, code: Int, kind: ProcessingFailure.Kind) async throws {
        let sandbox = try await SandboxFixture { $0.autoCreateAccounts = true }
        let http = HTTPClient()
        await #expect {
            _ = try await client(sandbox, http).send(to: to, sender: .number("+15557654321"), body: body)
        } throws: { error in
            (error as? SMSError)?.code == code && ProcessingFailure.classify(error).kind == kind
        }
        await http.shutdown()
        await sandbox.stop()
    }

    @Test(
        "a STOP texted in blocks the pair (21610, an opt-out); 20429 throttles; 5xx is transient; START unblocks; the text goes where the number routes it, without OptOutType for a plain number"
    )
    func optOutAndThrottling() async throws {
        let sandbox = try await SandboxFixture()
        let receiver = try await WebhookReceiver()
        let http = HTTPClient()
        let sid = "AC0000000000000000000000000000beef"
        try await sandbox.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(sid), "authToken": .string(token),
                "numbers": ["+15557654321": ["smsUrl": .string(receiver.url + "/inbound")]],
            ])
        let sms = client(sandbox, http)
        _ = try await sms.send(to: "+15551234567", sender: .number("+15557654321"), body: "first")
        let inbound = try await sandbox.post(
            "/sandbox/twilio/\(sid)/inbound", ["from": "+15551234567", "to": "+15557654321", "body": " stop "])
        #expect(inbound["keyword"] == "STOP" && inbound["webhook"]?.stringValue == receiver.url + "/inbound")
        let webhook = try #require(await receiver.waitFor(1).first)
        // Twilio sends OptOutType only for numbers in a Messaging Service with Advanced Opt-Out.
        #expect(webhook.formValue("Body") == " stop " && webhook.formValue("OptOutType") == nil)
        #expect(
            TwilioSignature.isValid(
                signature: webhook.header("X-Twilio-Signature") ?? "", url: receiver.url + "/inbound",
                parameters: webhook.form, key: token))
        let messages = try await sandbox.json("/sandbox/twilio/\(sid)")["messages"]?.arrayValue ?? []
        let autoReplies = messages.filter { $0["direction"] == "outbound-reply" }
        #expect(autoReplies.count == 1 && autoReplies.first?["to"] == "+15551234567", "Twilio answers STOP itself")
        await #expect {
            _ = try await sms.send(to: "+15551234567", sender: .number("+15557654321"), body: "again")
        } throws: { error in
            (error as? SMSError)?.isOptOut == true && ProcessingFailure.classify(error).kind == .permanent
        }
        try await sandbox.post("/sandbox/faults", ["smsConcurrencyRefusalRate": 1.0])
        await #expect {
            _ = try await sms.send(to: "+15559990000", sender: .number("+15557654321"), body: "x")
        } throws: { error in
            (error as? SMSError)?.code == 20429 && ProcessingFailure.classify(error).kind == .throttled
        }
        try await sandbox.post("/sandbox/faults", ["failRate": 1.0])
        await #expect {
            _ = try await sms.send(to: "+15559990000", sender: .number("+15557654321"), body: "x")
        } throws: { error in
            let failure = ProcessingFailure.classify(error)
            return failure.kind == .transient && failure.dependency == .sms
        }
        try await sandbox.post("/sandbox/faults", [:])
        _ = try await sandbox.post(
            "/sandbox/twilio/\(sid)/inbound", ["from": "+15551234567", "to": "+15557654321", "body": "START"])
        _ = try await sms.send(to: "+15551234567", sender: .number("+15557654321"), body: "welcome back")
        // A number the account does not have receives nothing.
        await #expect(throws: (any Error).self) {
            try await sandbox.post(
                "/sandbox/twilio/\(sid)/inbound", ["from": "+15551234567", "to": "+15550001111", "body": "hi"])
        }
        await http.shutdown()
        await sandbox.stop()
    }

    @Test(
        "a number in a Messaging Service: its texts go to the service's inbound URL, not the number's, with OptOutType under Advanced Opt-Out; inboundRoute says so"
    )
    func messagingServiceRouting() async throws {
        let sandbox = try await SandboxFixture()
        let receiver = try await WebhookReceiver()
        let http = HTTPClient()
        let sid = "AC0000000000000000000000000000beef"
        let service = "MG" + String(repeating: "b", count: 32)
        try await sandbox.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(sid), "authToken": .string(token),
                "numbers": [
                    "+15557654321": ["smsUrl": .string(receiver.url + "/number")],
                    "+15557650000": [
                        "smsUrl": .string(receiver.url + "/number"),
                        "smsApplicationSid": .string("AP" + String(repeating: "c", count: 32)),
                    ],
                ],
                "messagingServices": .object([
                    service: [
                        "numbers": ["+15557654321"], "inboundRequestUrl": .string(receiver.url + "/service"),
                        "advancedOptOut": true,
                    ]
                ]),
                "applications": .object(["AP" + String(repeating: "c", count: 32): .string(receiver.url + "/app")]),
            ])
        _ = try await sandbox.post(
            "/sandbox/twilio/\(sid)/inbound", ["from": "+15551234567", "to": "+15557654321", "body": "stop"])
        _ = try await sandbox.post(
            "/sandbox/twilio/\(sid)/inbound", ["from": "+15551234567", "to": "+15557650000", "body": "hello"])
        let webhooks = await receiver.waitFor(2)
        let viaService = try #require(webhooks.first { $0.path == "/service" })
        #expect(viaService.formValue("OptOutType") == "STOP" && viaService.formValue("MessagingServiceSid") == service)
        #expect(webhooks.contains { $0.path == "/app" } && !webhooks.contains { $0.path == "/number" })
        let sms = client(sandbox, http)
        let routed = try #require(try await sms.inboundRoute(for: .number("+15557654321")))
        #expect(routed.via == .messagingService(service) && routed.url == receiver.url + "/service")
        #expect(!routed.reaches(receiver.url + "/number"))
        let app = try #require(try await sms.inboundRoute(for: .number("+15557650000")))
        #expect(app.via == .application("AP" + String(repeating: "c", count: 32)) && app.url == receiver.url + "/app")
        let direct = try #require(try await sms.inboundRoute(for: .messagingService(service)))
        #expect(direct.url == receiver.url + "/service")
        #expect(try await sms.inboundRoute(for: .number("+15550009999")) == nil)
        await http.shutdown()
        await sandbox.stop()
    }

    @Test(
        "an MMS's media redirects (307) to a CDN host: the client follows it without sending the account's credentials there"
    )
    func mediaRedirect() async throws {
        let sandbox = try await SandboxFixture()
        let receiver = try await WebhookReceiver()
        let http = HTTPClient()
        let sid = "AC0000000000000000000000000000beef"
        try await sandbox.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(sid), "authToken": .string(token),
                "numbers": ["+15557654321": ["smsUrl": .string(receiver.url + "/inbound")]],
            ])
        _ = try await sandbox.post(
            "/sandbox/twilio/\(sid)/inbound",
            [
                "from": "+15551234567", "to": "+15557654321", "body": "photo",
                "media": [["contentType": "image/png", "size": 2048]],
            ])
        let webhook = try #require(await receiver.waitFor(1).first)
        let url = try #require(webhook.formValue("MediaUrl0"))
        let sms = client(sandbox, http)
        let fetched = try await sms.media(url, maximumBytes: 1 << 20)
        #expect(fetched.bytes.count == 2048 && MediaType.sniff(fetched.bytes) == "image/png")
        #expect(try await sandbox.json("/sandbox/state")["credentialsSentToCDN"] == 0)
        // Without following, the answer is the redirect itself (what failed every MMS import before).
        let raw = try await http.execute(
            APIRequest(
                url: url, headers: [("Authorization", "Basic " + Data("\(sid):\(token)".utf8).base64EncodedString())]))
        #expect(raw.status == 307 && raw.header("Location")?.contains("/twilio-cdn/") == true)
        await http.shutdown()
        await sandbox.stop()
    }

    @Test("lists messages to a number across pages, for reconciliation after a crash")
    func listForReconciliation() async throws {
        let sandbox = try await SandboxFixture { $0.autoCreateAccounts = true }
        let http = HTTPClient()
        let sms = client(sandbox, http)
        for index in 0..<130 {
            _ = try await sms.send(to: "+15551234567", sender: .number("+15557654321"), body: "message \(index)")
        }
        _ = try await sms.send(to: "+15559999999", sender: .number("+15557654321"), body: "other")
        let listed = try await sms.messages(to: "+15551234567", since: Date().addingTimeInterval(-60))
        #expect(listed.count == 130)
        #expect(Set(listed.compactMap(\.body)).count == 130)
        #expect(listed.allSatisfy { $0.to == "+15551234567" })
        let wrong = SMSClient(
            baseURL: sandbox.twilioBaseURL, accountSid: "AC0000000000000000000000000000beef", authToken: "nope",
            http: http)
        await #expect { _ = try await wrong.messages(to: "+15551234567", since: Date()) } throws: { error in
            (error as? SMSError)?.code == 20003 && ProcessingFailure.classify(error).errorClass == "sms.unauthorized"
        }
        await http.shutdown()
        await sandbox.stop()
    }
}
