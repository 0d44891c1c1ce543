import Foundation
import Testing

@testable import Shared
import TestSupport

/// The StatusWorker's periodic check of each merchant's Gorgias HTTP integration: once Gorgias deactivates it (after
/// 100 failed deliveries, or an admin does), agents' replies stop reaching Switchboard without an error anywhere.
@Suite("Merchant health", .serialized, .timeLimit(.minutes(5)))
struct MerchantHealthTests {
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
}
