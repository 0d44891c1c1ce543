import Foundation
import Testing
import TestSupport
import SwitchboardJSON
import SwitchboardStore

/// `accounts add` proves the credentials and the sender with the providers before storing anything.
@Suite("Credentials checked at accounts add")
struct CredentialCheckTests {
    static let gorgiasKey = "gorgias-key-checked-5f2a"
    static let smsToken = "sms-token-checked-91c3"
    static let sid = "AC" + String(repeating: "c", count: 32)

    /// A fleet whose sandbox knows the account `checked` (Gorgias) and its Twilio account with three numbers: one
    /// with SMS and MMS, one without MMS, one without SMS.
    func fleet() async throws -> E2EFleet {
        let fleet = try await E2EFleet()
        try await fleet.sandbox.post(
            "/sandbox/gorgias/accounts",
            ["subdomain": "checked", "email": "ops@checked.example", "apiKey": .string(Self.gorgiasKey)])
        try await fleet.sandbox.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(Self.sid), "authToken": .string(Self.smsToken),
                "numbers": [
                    "+15557650010": ["sms": true, "mms": true], "+15557650011": ["sms": true, "mms": false],
                    "+15557650012": ["sms": false, "mms": false],
                ],
            ])
        return fleet
    }

    func add(
        _ fleet: E2EFleet, gorgiasKey: String = gorgiasKey, smsToken: String = smsToken, from: String = "+15557650010"
    ) async throws -> (status: Int32, output: String, errors: String) {
        var environment = fleet.environment.filter { ["DATABASE_URL", "SWITCHBOARD_SECRET_KEY"].contains($0.key) }
        environment["GORGIAS_API_KEY"] = gorgiasKey
        environment["SMS_AUTH_TOKEN"] = smsToken
        return try await CLIProcess.run(
            [
                "accounts", "add", "--id", "checked", "--gorgias-base-url", fleet.sandbox.gorgiasBaseURL("checked"),
                "--gorgias-email", "ops@checked.example", "--sms-base-url", fleet.sandbox.twilioBaseURL,
                "--sms-account-sid", Self.sid, "--sms-from", from,
            ], environment: environment)
    }

    @Test(
        "a wrong Gorgias key, a wrong SMS token, a number of another account or one that cannot send SMS: refused, named, nothing stored",
        arguments: [
            ("wrong-gorgias-key", smsToken, "+15557650010", "Gorgias refused the credentials"),
            (gorgiasKey, "wrong-sms-token", "+15557650010", "the SMS provider refused the credentials"),
            (gorgiasKey, smsToken, "+15557650099", "--sms-from +15557650099 is not a number of SMS account"),
            (gorgiasKey, smsToken, "+15557650012", "--sms-from +15557650012 cannot send SMS"),
        ] as [(String, String, String, String)]
    )
    func refused(gorgiasKey: String, smsToken: String, from: String, reason: String) async throws {
        let fleet = try await fleet()
        let result = try await add(fleet, gorgiasKey: gorgiasKey, smsToken: smsToken, from: from)
        #expect(result.status != 0)
        #expect(result.errors.contains(reason) && result.errors.contains("nothing was stored"), "\(result.errors)")
        for secret in [gorgiasKey, smsToken, Self.gorgiasKey, Self.smsToken] {
            #expect(!(result.output + result.errors).contains(secret), "no secret in the CLI's output")
        }
        #expect(try await fleet.withStore { try await $0.account(id: "checked") } == nil)
        await fleet.shutdown()
    }

    @Test("right credentials store the account; a number without MMS is a warning")
    func accepted() async throws {
        let fleet = try await fleet()
        let result = try await add(fleet, from: "+15557650011")
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.errors.contains("+15557650011 cannot send MMS"), "\(result.errors)")
        #expect(try await fleet.withStore { try await $0.account(id: "checked") } != nil)
        await fleet.shutdown()
    }
}
