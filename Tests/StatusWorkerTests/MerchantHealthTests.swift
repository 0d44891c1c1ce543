import Crypto
import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardHTTP
import SwitchboardJSON
@testable import SwitchboardRuntime
import TestSupport
import SwitchboardStore
import SwitchboardDomain

/// The StatusWorker's periodic check of each merchant's Gorgias HTTP integration: once Gorgias deactivates it (after
/// 100 failed deliveries, or an admin does), agents' replies stop reaching Switchboard without an error anywhere.
@Suite("Merchant health", .serialized, .timeLimit(.minutes(5)))
struct MerchantHealthTests {
    static let noticeKey = "notice-signing-key-0123456789"

    let acme = E2EFleet.TestAccount(id: "acme")

    @Test(
        "a Gorgias HTTP integration deactivated in Gorgias turns the merchant's health red within one check interval, and green once it is active again"
    )
    func integrationDeactivated() async throws {
        let fleet = try await E2EFleet(environment: ["MERCHANT_HEALTH_INTERVAL": "1s"])
        try await fleet.addAccount(acme)
        // The operator connects the merchant to the ingress: Switchboard registers the HTTP integration in Gorgias.
        let environment = fleet.environment.filter { ["DATABASE_URL", "SWITCHBOARD_SECRET_KEY"].contains($0.key) }
        let connect = try await CLIProcess.run(
            ["accounts", "reconnect", "acme", "--ingress-url", "https://switchboard.example.com"],
            environment: environment)
        #expect(connect.status == 0, "\(connect.errors)")
        let worker = try await fleet.start(.status)
        #expect(await eventually { await worker.accountHealth("acme")["gorgias_integration"] == 1 }, "\(fleet.logs)")

        try await fleet.sandbox.post("/sandbox/gorgias/acme/integrations/deactivate", [:])
        #expect(
            await eventually(timeout: .seconds(10)) { await worker.accountHealth("acme")["gorgias_integration"] == 0 })
        #expect(await worker.accountHealth("acme")["gorgias_credentials"] == 1, "the key still works")
        // The operator sees it in the account list and the account.
        let list = try await CLIProcess.run(["accounts", "list"], environment: environment)
        #expect(list.output.contains("failing: gorgias_integration"), "\(list.output)")
        let show = try await CLIProcess.run(["accounts", "show", "acme", "--json"], environment: environment)
        let checks = try JSONParser.parse(Array(show.output.utf8))["health"]?.arrayValue ?? []
        let integration = try #require(checks.first { $0["check"] == "gorgias_integration" }, "\(show.output)")
        #expect(integration["healthy"] == false)
        #expect(integration["detail"]?.stringValue?.contains("deactivated in Gorgias") == true)

        try await fleet.sandbox.post("/sandbox/gorgias/acme/integrations/activate", [:])
        #expect(
            await eventually(timeout: .seconds(10)) { await worker.accountHealth("acme")["gorgias_integration"] == 1 })
        let healthyAgain = await eventually {
            let output = (try? await CLIProcess.run(["accounts", "list"], environment: environment))?.output ?? ""
            return output.contains("acme") && output.contains(" ok") && !output.contains("failing")
        }
        #expect(healthyAgain, "the list shows acme healthy again")
        await fleet.shutdown()
    }

    /// A fleet whose StatusWorker checks every second and mails through `smtp`, with acme telling
    /// `ops@acme.example` and `webhook` about its incidents, its integration registered in the sandbox's Gorgias.
    func noticeFleet(smtp: SMTPReceiver, webhook: WebhookReceiver) async throws -> E2EFleet {
        let fleet = try await E2EFleet(environment: [
            "MERCHANT_HEALTH_INTERVAL": "1s", "SMTP_URL": smtp.url, "SMTP_FROM": "alerts@switchboard.test",
            // The receiver is on loopback, which a notice never goes to outside the tests.
            "SWITCHBOARD_FAILPOINT_LOOPBACK_NOTICES": "1",
        ])
        try await fleet.addAccount(acme) { settings in
            settings.noticeEmail = "ops@acme.example"
            settings.noticeWebhookURL = webhook.url + "/notices"
        }
        let box = try SecretBox(base64Key: fleet.secretKey)
        try await fleet.withStore { store in
            var account = try #require(try await store.account(id: "acme"))
            var credentials = try account.credentials(box)
            credentials.noticeWebhookSecret = Self.noticeKey
            account.sealedCredentials = try credentials.sealed(box)
            try await store.updateAccount(account)
        }
        let environment = fleet.environment.filter { ["DATABASE_URL", "SWITCHBOARD_SECRET_KEY"].contains($0.key) }
        let connect = try await CLIProcess.run(
            ["accounts", "reconnect", "acme", "--ingress-url", "https://switchboard.example.com"],
            environment: environment)
        #expect(connect.status == 0, "\(connect.errors)")
        return fleet
    }

    @Test(
        "a deactivated integration sends one notice by email and webhook with the reason, however many checks see it; reactivating sends one recovery notice"
    )
    func integrationNotices() async throws {
        let smtp = try SMTPReceiver()
        let webhook = try await WebhookReceiver()
        let fleet = try await noticeFleet(smtp: smtp, webhook: webhook)
        // Two StatusWorkers check the same merchant: still one notice per incident.
        let worker = try await fleet.start(.status)
        try await fleet.start(.status)
        #expect(await eventually { await worker.accountHealth("acme")["gorgias_integration"] == 1 }, "\(fleet.logs)")
        #expect(smtp.received.isEmpty && webhook.requests.isEmpty, "healthy from the start: nothing to tell")

        try await fleet.sandbox.post("/sandbox/gorgias/acme/integrations/deactivate", [:])
        #expect(await eventually(timeout: .seconds(10)) { smtp.received.count == 1 && webhook.requests.count == 1 })
        try await Task.sleep(for: .seconds(3))  // three more rounds of checks by each worker
        #expect(smtp.received.count == 1 && webhook.requests.count == 1, "one notice per incident")
        let mail = try #require(smtp.received.first)
        #expect(mail.recipients == ["ops@acme.example"] && mail.from == "alerts@switchboard.test")
        #expect(mail.header("Subject")?.contains("action needed for acme") == true)
        #expect(mail.data.contains("turned off the HTTP integration") && mail.data.contains("What to do"))
        let signature = try #require(webhook.requests.first?.header("X-Switchboard-Signature"), "the notice is signed")
        let stamp = try #require(signature.split(separator: ",").first?.dropFirst(2))
        let expected = HMAC<SHA256>.authenticationCode(
            for: Array("\(stamp).".utf8) + (webhook.requests.first?.body ?? []),
            using: SymmetricKey(data: Data(Self.noticeKey.utf8))
        ).map { String(format: "%02x", $0) }.joined()
        #expect(
            signature == "t=\(stamp),v1=\(expected)", "HMAC-SHA256 over the stamp and the body, with the account's key")
        let posted = try #require(webhook.requests.first?.json)
        #expect(posted["state"] == "problem" && posted["check"] == "gorgias_integration" && posted["account"] == "acme")
        #expect(posted["detail"]?.stringValue?.contains("deactivated in Gorgias") == true)

        try await fleet.sandbox.post("/sandbox/gorgias/acme/integrations/activate", [:])
        #expect(await eventually(timeout: .seconds(10)) { smtp.received.count == 2 && webhook.requests.count == 2 })
        try await Task.sleep(for: .seconds(2))
        #expect(smtp.received.count == 2 && webhook.requests.count == 2)
        #expect(smtp.received.last?.header("Subject")?.contains("working again") == true)
        #expect(webhook.requests.last?.json?["state"] == "recovered")
        smtp.stop()
        await fleet.shutdown()
    }

    @Test("a revoked Gorgias key sends one notice while texts keep arriving, not one per text, and no dead letter")
    func revokedKeyNotice() async throws {
        let smtp = try SMTPReceiver()
        let webhook = try await WebhookReceiver()
        let fleet = try await noticeFleet(smtp: smtp, webhook: webhook)
        try await fleet.start(.status)
        let inbound = try await fleet.start(.inbound)
        try await fleet.sandbox.post(
            "/sandbox/gorgias/accounts", ["subdomain": "acme", "email": "ops@acme.example", "apiKey": "rotated-key"])
        try await fleet.produce(
            (0..<20).map { index in
                InboundText(
                    accountId: "acme", messageSid: "SM-revoked-\(index)", from: "+1555300000\(index % 4)",
                    to: acme.number, body: "hello \(index)", receivedAt: Date()
                ).record(id: "SM-revoked-\(index)", source: "test")
            })
        #expect(await eventually(timeout: .seconds(10)) { smtp.received.count == 1 && webhook.requests.count == 1 })
        try await Task.sleep(for: .seconds(3))
        #expect(smtp.received.count == 1 && webhook.requests.count == 1, "one notice, not one per text")
        #expect(smtp.received.first?.data.contains("refuses Switchboard's credentials") == true)
        #expect(webhook.requests.first?.json?["check"] == "gorgias_credentials")
        #expect(metricSum(await inbound.metrics(), "switchboard_dead_letters_total") == 0)
        smtp.stop()
        await fleet.shutdown()
    }

    @Test(
        "reconnect points the number's incoming-message webhook at the ingress; someone changing it turns sms_inbound_webhook red and tells the merchant"
    )
    func inboundWebhookChanged() async throws {
        let smtp = try SMTPReceiver()
        let webhook = try await WebhookReceiver()
        let fleet = try await E2EFleet(environment: [
            "MERCHANT_HEALTH_INTERVAL": "1s", "SMTP_URL": smtp.url, "SMTP_FROM": "alerts@switchboard.test",
            "SWITCHBOARD_FAILPOINT_LOOPBACK_NOTICES": "1",
        ])
        try await fleet.addAccount(acme) { $0.noticeWebhookURL = webhook.url + "/notices" }

        try await fleet.sandbox.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(acme.twilioSid), "authToken": .string(acme.twilioToken),
                "numbers": .object([acme.number: ["sms": true, "mms": true]]),
            ])
        let environment = fleet.environment.filter { ["DATABASE_URL", "SWITCHBOARD_SECRET_KEY"].contains($0.key) }
        let connect = try await CLIProcess.run(
            ["accounts", "reconnect", "acme", "--ingress-url", "https://switchboard.example.com"],
            environment: environment)
        #expect(
            connect.output.contains("incoming texts → https://switchboard.example.com/twilio/inbound/acme"),
            "\(connect.output)")
        let worker = try await fleet.start(.status)
        #expect(await eventually { await worker.accountHealth("acme")["sms_inbound_webhook"] == 1 }, "\(fleet.logs)")

        // Someone points the number elsewhere in the provider's console.
        let http = HTTPClient()
        defer { Task { await http.shutdown() } }
        let pnSid = "PN" + String((acme.number.filter(\.isNumber) + String(repeating: "0", count: 32)).prefix(32))
        let changed = try await http.execute(
            APIRequest(
                method: "POST",
                url:
                    "\(fleet.sandbox.twilioBaseURL)/2010-04-01/Accounts/\(acme.twilioSid)/IncomingPhoneNumbers/\(pnSid).json",
                headers: [
                    (
                        "Authorization",
                        "Basic " + Data("\(acme.twilioSid):\(acme.twilioToken)".utf8).base64EncodedString()
                    ),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                body: Array("SmsUrl=https%3A%2F%2Felsewhere.example%2Fsms".utf8)))
        #expect(changed.status == 200)
        #expect(
            await eventually(timeout: .seconds(10)) { await worker.accountHealth("acme")["sms_inbound_webhook"] == 0 })
        #expect(await eventually { webhook.requests.count == 1 })
        #expect(webhook.requests.first?.json?["detail"]?.stringValue?.contains("elsewhere.example") == true)
        smtp.stop()
        await fleet.shutdown()
    }

    @Test(
        "a number in a Messaging Service that routes texts elsewhere: connect warns in words and sms_inbound_webhook says where they go, though the number's own SmsUrl points at Switchboard"
    )
    func messagingServiceRoutesElsewhere() async throws {
        let fleet = try await E2EFleet(environment: ["MERCHANT_HEALTH_INTERVAL": "1s"])
        try await fleet.addAccount(acme)
        let service = "MG" + String(repeating: "d", count: 32)
        try await fleet.sandbox.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(acme.twilioSid), "authToken": .string(acme.twilioToken),
                "numbers": .object([acme.number: ["sms": true, "mms": true]]),
                "messagingServices": .object([
                    service: ["numbers": [.string(acme.number)], "inboundRequestUrl": "https://old-app.example/sms"]
                ]),
            ])
        let environment = fleet.environment.filter { ["DATABASE_URL", "SWITCHBOARD_SECRET_KEY"].contains($0.key) }
        let connect = try await CLIProcess.run(
            ["accounts", "reconnect", "acme", "--ingress-url", "https://switchboard.example.com"],
            environment: environment)
        #expect(
            connect.errors.contains("Messaging Service \(service)") && connect.errors.contains("old-app.example"),
            "\(connect.output)\n\(connect.errors)")
        let worker = try await fleet.start(.status)
        #expect(await eventually { await worker.accountHealth("acme")["sms_inbound_webhook"] == 0 }, "\(fleet.logs)")
        let detail = try await fleet.withStore { store in
            try await store.accountHealth()["acme"]?.first { $0.check == "sms_inbound_webhook" }?.detail
        }
        #expect(detail?.contains("Messaging Service \(service)") == true, "\(detail ?? "no detail")")
        await fleet.shutdown()
    }
}
