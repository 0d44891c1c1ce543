import Foundation
import Testing

@testable import Shared
import Sandbox
import TestSupport

@Suite("SMS client and the Twilio sandbox", .serialized, .timeLimit(.minutes(2)))
struct SMSClientTests {
    let token = "twilio-token"

    func client(_ sandbox: SandboxFixture, _ http: HTTPClient, sid: String = "AC0000000000000000000000000000test")
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
                    parameters: callback.form, authToken: token))
        }
        await http.shutdown()
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
    }

    @Test("a STOP texted in blocks the pair (21610, an opt-out); 20429 throttles; 5xx is transient; START unblocks")
    func optOutAndThrottling() async throws {
        let sandbox = try await SandboxFixture { $0.autoCreateAccounts = true }
        let receiver = try await WebhookReceiver()
        let http = HTTPClient()
        let sms = client(sandbox, http)
        _ = try await sms.send(to: "+15551234567", sender: .number("+15557654321"), body: "first")
        let inbound = try await sandbox.post(
            "/sandbox/twilio/AC0000000000000000000000000000test/inbound",
            [
                "from": "+15551234567", "to": "+15557654321", "body": " stop ",
                "url": .string(receiver.url + "/inbound"),
            ])
        #expect(inbound["keyword"] == "STOP")
        let webhook = try #require(await receiver.waitFor(1).first)
        #expect(webhook.formValue("Body") == " stop " && webhook.formValue("OptOutType") == "STOP")
        #expect(
            TwilioSignature.isValid(
                signature: webhook.header("X-Twilio-Signature") ?? "", url: receiver.url + "/inbound",
                parameters: webhook.form, authToken: token))
        let messages =
            try await sandbox.json("/sandbox/twilio/AC0000000000000000000000000000test")["messages"]?.arrayValue ?? []
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
            "/sandbox/twilio/AC0000000000000000000000000000test/inbound",
            [
                "from": "+15551234567", "to": "+15557654321", "body": "START",
                "url": .string(receiver.url + "/inbound"),
            ])
        _ = try await sms.send(to: "+15551234567", sender: .number("+15557654321"), body: "welcome back")
        await http.shutdown()
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
            baseURL: sandbox.twilioBaseURL, accountSid: "AC0000000000000000000000000000test", authToken: "nope",
            http: http)
        await #expect { _ = try await wrong.messages(to: "+15551234567", since: Date()) } throws: { error in
            (error as? SMSError)?.code == 20003 && ProcessingFailure.classify(error).errorClass == "sms.unauthorized"
        }
        await http.shutdown()
    }
}
