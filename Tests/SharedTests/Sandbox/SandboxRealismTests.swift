import Foundation
import Testing
import LocalFleet
@testable import Sandbox
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardSMS
import TestSupport

/// The sandbox behaves the less kind way the documents allow (issue 15): unknown credentials fail, queued messages
/// have no `date_sent`, filters can be ignored, STOP blocks a whole messaging service, media needs the account's
/// credentials, and Gorgias has its own clock, snoozes, merges and file storage.
@Suite("Sandbox realism", .serialized, .timeLimit(.minutes(2)))
struct SandboxRealismTests {
    let sid = "AC0000000000000000000000000000feed"
    let token = "real-token"
    let basic = "Basic " + Data("ops@acme.com:key".utf8).base64EncodedString()

    func sandbox(_ configure: @escaping (inout SandboxConfiguration) -> Void = { _ in }) async throws -> SandboxFixture
    {
        try await SandboxFixture { configuration in
            configuration.gorgiasAccounts = [
                GorgiasAccountSeed(subdomain: "acme", email: "ops@acme.com", apiKey: "key")
            ]
            configure(&configuration)
        }
    }

    /// The test's Twilio account, with its number `+15557654321` posting incoming texts to `inbound` (if given).
    func register(_ sandbox: SandboxFixture, services: JSONValue = [:], inbound: String? = nil) async throws {
        try await sandbox.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(sid), "authToken": .string(token), "messagingServices": services,
                "numbers": ["+15557654321": ["smsUrl": inbound.map { .string($0) } ?? .null]],
            ])
    }

    func gorgias(_ sandbox: SandboxFixture, _ http: HTTPClient) -> GorgiasClient {
        GorgiasClient(
            baseURL: sandbox.gorgiasBaseURL("acme"), credentials: .apiKey(email: "ops@acme.com", key: "key"),
            accountId: "acme", http: http, limiter: UnlimitedRateLimiter())
    }

    @Test("an unknown subdomain or account SID is refused like bad credentials, not created on first use")
    func strictAccounts() async throws {
        let sandbox = try await sandbox()
        try await HTTPClient.withClient { http in
            let unknown = GorgiasClient(
                baseURL: sandbox.gorgiasBaseURL("nobody"), credentials: .apiKey(email: "x@y.z", key: "k"),
                accountId: "nobody", http: http, limiter: UnlimitedRateLimiter()
            )
            await #expect { _ = try await unknown.customer(externalId: "sms:+15550000000") } throws: {
                ($0 as? GorgiasError)?.status == 401
            }
            let sms = SMSClient(baseURL: sandbox.twilioBaseURL, accountSid: sid, authToken: token, http: http)
            await #expect {
                _ = try await sms.send(to: "+15551234567", sender: .number("+15557654321"), body: "hi")
            } throws: { ($0 as? SMSError)?.status == 401 }
        }
    }

    @Test("a queued message has no date_sent, so DateSent filters miss it; the To/From listing finds it")
    func queuedMessages() async throws {
        let sandbox = try await sandbox { $0.faults.smsMinimumQueuedMs = 60_000 }
        try await register(sandbox)
        try await HTTPClient.withClient { http in
            let sms = SMSClient(baseURL: sandbox.twilioBaseURL, accountSid: sid, authToken: token, http: http)
            let sent = try await sms.send(
                to: "+15551234567", sender: .number("+15557654321"), body: "queued for a minute")
            let today = String(RFC3339.format(Date()).prefix(10))
            let bySentDate = try await http.execute(
                APIRequest(
                    url: sandbox.twilioBaseURL
                        + "/2010-04-01/Accounts/\(sid)/Messages.json?To=%2B15551234567&DateSent%3E=\(today)",
                    headers: [("Authorization", "Basic " + Data("\(sid):\(token)".utf8).base64EncodedString())]
                ))
            #expect(
                try JSONParser.parse(bySentDate.body)["messages"]?.arrayValue?.isEmpty == true,
                "Twilio's DateSent filter matches date_sent")
            let listed = try await sms.messages(
                to: "+15551234567", sender: .number("+15557654321"), since: Date().addingTimeInterval(-10))
            #expect(
                listed.map(\.sid) == [sent.sid] && listed.first?.status == "queued" && listed.first?.dateSent == nil)
        }
    }

    @Test("a sender's messages leave its queue at its rate: the second is still queued when the first is sent")
    func senderRate() async throws {
        #expect(
            SandboxConfiguration().faults.smsPerSecondPerSender == 1, "a long code sends about one segment per second")
        // One message per 4 s here, so the snapshot below has seconds of slack on a loaded machine; the rule is the same.
        let sandbox = try await sandbox {
            $0.callbackDelayMs = 20
            $0.faults.smsPerSecondPerSender = 0.25
        }
        try await register(sandbox)
        try await HTTPClient.withClient { http in
            let sms = SMSClient(baseURL: sandbox.twilioBaseURL, accountSid: sid, authToken: token, http: http)
            let first = try await sms.send(to: "+15551230001", sender: .number("+15557654321"), body: "one")
            let second = try await sms.send(to: "+15551230002", sender: .number("+15557654321"), body: "two")
            // One snapshot of the sandbox, taken as soon as the first message has left the queue.
            var snapshot: [String: String] = [:]
            let left = try await eventually(timeout: .seconds(10)) {
                let messages = try await sandbox.json("/sandbox/twilio/\(sid)")["messages"]?.arrayValue ?? []
                snapshot = Dictionary(
                    messages.compactMap { message in
                        message["sid"]?.stringValue.flatMap { sid in message["status"]?.stringValue.map { (sid, $0) } }
                    }, uniquingKeysWith: { first, _ in first })
                return snapshot[first.sid] != "queued"
            }
            #expect(
                left && ["sending", "sent", "delivered"].contains(snapshot[first.sid])
                    && snapshot[second.sid] == "queued", "\(snapshot)")
        }
    }

    @Test("a STOP to a number of a messaging service blocks sends through the service and through the number")
    func messagingServiceBlocklist() async throws {
        let service = "MG" + String(repeating: "b", count: 32)
        let sandbox = try await sandbox()
        try await register(sandbox, services: [.init(stringLiteral: service): ["+15557654321"]])
        try await sandbox.post(
            "/sandbox/twilio/\(sid)/inbound", ["from": "+15551234567", "to": "+15557654321", "body": "STOP"])
        try await HTTPClient.withClient { http in
            let sms = SMSClient(baseURL: sandbox.twilioBaseURL, accountSid: sid, authToken: token, http: http)
            for sender in [Account.SMSSender.messagingService(service), .number("+15557654321")] {
                await #expect { _ = try await sms.send(to: "+15551234567", sender: sender, body: "promo") } throws: {
                    ($0 as? SMSError)?.code == 21610
                }
            }
        }
    }

    @Test("Gorgias refusals (429, 5xx) carry the call-limit header like every response")
    func callLimitOnRefusals() async throws {
        let sandbox = try await sandbox()
        try await HTTPClient.withClient { http in
            for faults: JSONValue in [["burst429": 1], ["failRate": 1]] {
                try await sandbox.post("/sandbox/faults", faults)
                let response = try await http.execute(
                    APIRequest(
                        url: sandbox.gorgiasBaseURL("acme") + "/api/customers", headers: [("Authorization", basic)]))
                #expect(
                    [429, 503].contains(response.status) && response.header("X-Gorgias-Account-Api-Call-Limit") != nil,
                    "\(faults.serialized())")
            }
        }
    }

    @Test("a list filter Gorgias ignores returns everyone; the client's check turns that into not found")
    func ignoredFilters() async throws {
        let sandbox = try await sandbox { $0.faults.ignoredListFilters = ["channel_address", "external_id"] }
        try await HTTPClient.withClient { http in
            let client = gorgias(sandbox, http)
            let other = try await client.createCustomer(
                phone: "+15550000001", name: "Someone Else", email: nil, externalId: "sms:+15550000001")
            let raw = try await http.execute(
                APIRequest(
                    url: sandbox.gorgiasBaseURL("acme")
                        + "/api/customers?channel_type=phone&channel_address=%2B15559999999",
                    headers: [("Authorization", basic)]
                ))
            #expect(
                try JSONParser.parse(raw.body)["data"]?.arrayValue?.first?["id"]?.intValue == other.id,
                "the sandbox ignored the filter")
            #expect(try await client.customer(phone: "+15559999999") == nil)
            #expect(try await client.customer(externalId: "sms:+15559999999") == nil)
            #expect(try await client.customer(phone: "+15550000001")?.id == other.id)
        }
    }

    @Test("media behind Basic auth; uploads to Gorgias are served at the URL they answer with")
    func mediaAndUploads() async throws {
        let sandbox = try await sandbox()
        let receiver = try await WebhookReceiver()
        try await register(sandbox, inbound: receiver.url + "/inbound")
        try await sandbox.post(
            "/sandbox/twilio/\(sid)/inbound",
            [
                "from": "+15551234567", "to": "+15557654321", "body": "photo",
                "media": [["contentType": "image/png", "size": 2048]],
            ])
        let webhook = try #require(await receiver.waitFor(1).first)
        let url = try #require(webhook.formValue("MediaUrl0"))
        try await HTTPClient.withClient { http in
            #expect(try await http.execute(APIRequest(url: url)).status == 401, "media needs the account's credentials")
            let sms = SMSClient(baseURL: sandbox.twilioBaseURL, accountSid: sid, authToken: token, http: http)
            let media = try await sms.media(url, maximumBytes: 1_000_000)
            #expect(media.bytes.count == 2048 && MediaType.sniff(media.bytes) == "image/png")
            await #expect { _ = try await sms.media(url, maximumBytes: 100) } throws: {
                ($0 as? HTTPError)?.kind == .tooLarge
            }
            let uploaded = try await gorgias(sandbox, http).upload(
                filename: "image-1.png", contentType: "image/png", bytes: media.bytes)
            let served = try await http.execute(APIRequest(url: uploaded.url))
            #expect(served.status == 200 && served.body == media.bytes && served.header("Content-Type") == "image/png")
        }
    }

    @Test(
        "Gorgias' clock can be off; a snooze ends by itself and reopens the ticket; merges move messages and channels, and calls on what was merged away answer 301 to the survivor"
    )
    func gorgiasClockSnoozesMerges() async throws {
        let sandbox = try await sandbox { $0.faults.gorgiasClockOffsetSeconds = -600 }
        try await HTTPClient.withClient { http in
            let client = gorgias(sandbox, http)
            let customer = try await client.createCustomer(
                phone: "+15551234567", name: nil, email: nil, externalId: "sms:+15551234567")
            let updated = try #require(customer.updatedDatetime.flatMap(GorgiasDate.parse))
            #expect(abs(updated.timeIntervalSinceNow + 600) < 30, "the sandbox Gorgias runs ten minutes behind")
            func ticket(_ body: String) async throws -> GorgiasTicket {
                try await client.createTicket(
                    GorgiasNewTicket(
                        channel: "sms", via: "api", fromAgent: false, status: "open", subject: body, externalId: nil,
                        customer: GorgiasPersonRef(id: customer.id),
                        tags: nil,
                        messages: [
                            GorgiasNewMessage(
                                channel: "sms", via: "api", fromAgent: false, sender: GorgiasPersonRef(id: customer.id),
                                bodyText: body)
                        ]
                    ))
            }
            let snoozed = try await ticket("snooze me")
            let until = SandboxTime.gorgias(Date().addingTimeInterval(-600 + 1))
            try await sandbox.post(
                "/sandbox/gorgias/acme/tickets/\(snoozed.id)/status",
                ["status": "closed", "snooze_datetime": .string(until)])
            #expect(try await client.ticket(id: snoozed.id).status == "closed")
            #expect(
                await eventually(timeout: .seconds(5)) { (try? await client.ticket(id: snoozed.id).status) == "open" },
                "the snooze ended")

            let merged = try await ticket("merged away")
            try await sandbox.post("/sandbox/gorgias/acme/tickets/\(merged.id)/merge", ["into": .int(snoozed.id)])
            #expect(try await client.ticket(id: merged.id).id == snoozed.id, "the client follows the 301")
            #expect(try await client.ticket(id: snoozed.id).messages?.count == 2)

            let target = try await client.createCustomer(
                phone: "+15559990000", name: "Jane", email: "jane@example.com", externalId: "email:jane")
            try await sandbox.post(
                "/sandbox/gorgias/acme/customers/\(customer.id)/merge", ["into": .int(target.id)])
            #expect(try await client.customer(id: customer.id).id == target.id, "the client follows the 301")
            #expect(try await client.customer(externalId: "sms:+15551234567") == nil)
            #expect(try await client.customer(phone: "+15551234567")?.id == target.id)
            #expect(try await client.ticket(id: snoozed.id).customer?.id == target.id)
        }
    }

    @Test(
        "the sandbox's views never show an integration's secret; control posts from another origin or not as JSON are refused"
    )
    func noSecretsNoCrossOrigin() async throws {
        let sandbox = try await sandbox()
        try await HTTPClient.withClient { http in
            _ = try await gorgias(sandbox, http).createIntegration(
                name: "bridge", url: "https://bridge.example/gorgias?k=s3cr3t-value",
                secretHeader: ("X-Switchboard-Secret", "s3cr3t-value"))
            for path in ["/sandbox/gorgias/acme", "/sandbox/state"] {
                let shown = try await http.execute(APIRequest(url: sandbox.url + path)).bodyText
                #expect(shown.contains("bridge.example") && !shown.contains("s3cr3t-value"), "\(path) shows the secret")
            }
            let faults = Array(#"{"failRate": 1}"#.utf8)
            let crossOrigin = try await http.execute(
                APIRequest(
                    method: "POST", url: sandbox.url + "/sandbox/faults",
                    headers: [("Content-Type", "application/json"), ("Origin", "https://evil.example")], body: faults
                ))
            let plainText = try await http.execute(
                APIRequest(
                    method: "POST", url: sandbox.url + "/sandbox/faults", headers: [("Content-Type", "text/plain")],
                    body: faults))
            #expect(crossOrigin.status == 403 && plainText.status == 403)
            #expect(try await sandbox.json("/sandbox/faults")["failRate"]?.doubleValue == 0, "nothing changed")
        }
    }
}
