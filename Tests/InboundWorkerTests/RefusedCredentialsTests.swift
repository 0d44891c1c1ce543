import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardKafka
import TestSupport
import SwitchboardJSON

/// A merchant whose Gorgias key was revoked: its texts wait for the key to be fixed instead of climbing the retry
/// tiers into the DLQ (one dead letter per text, one alert per record), and every other merchant keeps flowing.
@Suite("Refused credentials", .serialized, .timeLimit(.minutes(5)))
struct RefusedCredentialsTests {
    let acme = E2EFleet.TestAccount(id: "acme")
    let globex = E2EFleet.TestAccount(id: "globex", number: "+15557650002")

    func text(_ account: E2EFleet.TestAccount, from: String, sid: String) -> OutgoingRecord {
        InboundText(
            accountId: account.id, messageSid: sid, from: from, to: account.number, body: "Where is my order? \(sid)",
            receivedAt: Date()
        ).record(id: sid, source: "test")
    }

    func messageCount(_ fleet: E2EFleet, _ account: String) async -> Int? {
        (try? await fleet.gorgias(account)["tickets"]?.arrayValue)?
            .reduce(0) { $0 + ($1["messages"]?.arrayValue?.count ?? 0) }
    }

    /// `switchboard accounts credentials acme` with a new Gorgias key in the environment, as an operator runs it.
    func replaceKey(_ fleet: E2EFleet, _ key: String) async throws -> (status: Int32, output: String, errors: String) {
        var environment = fleet.environment.filter { ["DATABASE_URL", "SWITCHBOARD_SECRET_KEY"].contains($0.key) }
        environment["GORGIAS_API_KEY"] = key
        return try await CLIProcess.run(["accounts", "credentials", "acme"], environment: environment)
    }

    @Test(
        "a revoked Gorgias key holds that merchant's texts with no dead letter while others flow; once the operator stores a working key each text is one message"
    )
    func revokedKeyWaits() async throws {
        let fleet = try await E2EFleet(environment: [
            "IN_PLACE_RETRIES": "1", "CREDENTIALS_RECHECK_INTERVAL": "2s", "ACCOUNT_CACHE_TTL": "1s",
        ])
        try await fleet.addAccount(acme)
        try await fleet.addAccount(globex)
        // Someone rotated acme's key in Gorgias: every call with the stored one is refused with 401.
        try await fleet.sandbox.post(
            "/sandbox/gorgias/accounts", ["subdomain": "acme", "email": "ops@acme.example", "apiKey": "rotated-key"])
        // The credential check also proves acme's sender: Twilio lists it as one of its numbers.
        try await fleet.sandbox.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(acme.twilioSid), "authToken": .string(acme.twilioToken),
                "numbers": .object([acme.number: ["sms": true, "mms": true]]),
            ])
        let worker = try await fleet.start(.inbound)
        try await fleet.produce(
            (0..<6).map { text(acme, from: "+1555300000\($0 % 3)", sid: "SM-acme-\($0)") }
                + (0..<3).map { text(globex, from: "+1555400000\($0)", sid: "SM-globex-\($0)") })

        #expect(await eventually { await messageCount(fleet, "globex") == 3 }, "\(fleet.logs)")
        #expect(
            await eventually { await worker.accountHealth("acme")["gorgias_credentials"] == 0 },
            "acme's credentials are reported refused")
        // Longer than both retry tiers (1 s, 2 s) and several rechecks: before, every text was dead-lettered by now.
        try await Task.sleep(for: .seconds(8))
        let waiting = await worker.metrics()
        #expect(metricSum(waiting, "switchboard_dead_letters_total") == 0, "nothing is dead-lettered")
        #expect(await messageCount(fleet, "acme") == 0)
        #expect(await worker.accountHealth("globex").isEmpty, "a merchant never refused has no health series")

        // A wrong key is refused before it is stored, naming Gorgias; the right one is stored.
        let wrong = try await replaceKey(fleet, "not-the-key")
        #expect(wrong.status != 0 && wrong.errors.contains("Gorgias"), "\(wrong.errors)")
        #expect(!wrong.output.contains("replaced") && !wrong.errors.contains("not-the-key"))
        let replaced = try await replaceKey(fleet, "rotated-key")
        #expect(replaced.status == 0 && replaced.output.contains("replaced the Gorgias API key"), "\(replaced.errors)")
        #expect(await eventually(timeout: .seconds(60)) { await messageCount(fleet, "acme") == 6 }, "\(fleet.logs)")
        #expect(
            await eventually { await worker.accountHealth("acme")["gorgias_credentials"] == 1 },
            "acme's credentials work again")
        let tickets = try await fleet.gorgias("acme")["tickets"]?.arrayValue ?? []
        #expect(tickets.count == 3, "one ticket per customer")
        #expect(metricSum(await worker.metrics(), "switchboard_dead_letters_total") == 0)
        await fleet.shutdown()
    }
}
