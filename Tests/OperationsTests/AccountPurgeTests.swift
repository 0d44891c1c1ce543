import Foundation
import Testing
import LocalFleet
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
@testable import SwitchboardStore
import TestSupport

/// `accounts delete --purge`: nothing of the account is left but its consent record, and other accounts are untouched.
@Suite("Account delete and purge", .timeLimit(.minutes(3)))
struct AccountPurgeTests {
    func text(_ account: E2EFleet.TestAccount, from: String, _ body: String, sid: String) -> OutgoingRecord {
        InboundText(
            accountId: account.id, messageSid: sid, from: from, to: account.number, body: body, receivedAt: Date()
        ).record(id: sid, source: "test")
    }

    func count(_ fleet: E2EFleet, _ sql: String, _ binds: String...) async throws -> Int {
        try await fleet.withStore { store in
            Int(try await store.database.query(sql, binds.map(\.sqlValue)).first?["n"].int ?? 0)
        }
    }

    @Test("delete refuses without --purge; with it, only the consent record of the account is left")
    func purge() async throws {
        let fleet = try await E2EFleet()
        let acme = E2EFleet.TestAccount(id: "acme")
        let keep = E2EFleet.TestAccount(id: "keep", number: "+15557654322")
        try await fleet.addAccount(acme)
        try await fleet.addAccount(keep)
        let worker = try await fleet.start(.inbound)
        try await fleet.produce([
            text(acme, from: "+15550001111", "hello", sid: "SMpurge1"),
            text(acme, from: "+15550002222", "STOP", sid: "SMpurge2"),
            text(keep, from: "+15550003333", "hi", sid: "SMpurge3"),
        ])
        func tickets(_ id: String) async -> Int { (try? await fleet.gorgias(id)["tickets"]?.arrayValue?.count) ?? 0 }
        #expect(
            await eventually(timeout: .seconds(30)) {
                let optedOut = try? await fleet.withStore {
                    try await $0.subscriber(accountId: "acme", phone: "+15550002222")?.state
                }
                let (acmeTickets, keepTickets) = (await tickets("acme"), await tickets("keep"))
                return acmeTickets == 1 && keepTickets == 1 && optedOut == .unsubscribed
            }, "\(fleet.logs)")
        await worker.terminate()
        for table in ["conversations", "tickets", "effects", "consent_history", "subscribers"] {
            #expect(
                try await count(fleet, "SELECT COUNT(*) AS n FROM \(table) WHERE account_id = ?", "acme") > 0,
                "acme has \(table) rows before the purge")
        }

        let environment = fleet.environment.filter { ["DATABASE_URL", "SWITCHBOARD_SECRET_KEY"].contains($0.key) }
        let refused = try await CLIProcess.run(["accounts", "delete", "acme"], environment: environment)
        #expect(refused.status == 64 && refused.errors.contains("--purge"), "\(refused.errors)")
        #expect(try await fleet.withStore { try await $0.account(id: "acme") } != nil)

        let purged = try await CLIProcess.run(
            ["accounts", "delete", "acme", "--purge", "--json"], environment: environment)
        #expect(purged.status == 0, "\(purged.errors)")
        let summary = try JSONParser.parse(Array(purged.output.utf8))
        #expect(summary["deleted"]?["conversations"]?.intValue ?? 0 >= 1)
        #expect(summary["kept"]?["consent_history"]?.intValue ?? 0 > 0)

        #expect(try await fleet.withStore { try await $0.account(id: "acme") } == nil)
        for table in Store.purgedTables {
            #expect(try await count(fleet, "SELECT COUNT(*) AS n FROM \(table) WHERE account_id = ?", "acme") == 0)
        }
        #expect(try await count(fleet, "SELECT COUNT(*) AS n FROM rate_buckets WHERE bucket = ?", "gorgias:acme") == 0)
        for table in Store.keptOnPurge {
            #expect(try await count(fleet, "SELECT COUNT(*) AS n FROM \(table) WHERE account_id = ?", "acme") > 0)
        }
        #expect(try await fleet.withStore { try await $0.account(id: "keep") } != nil)
        for table in ["conversations", "tickets", "effects"] {
            #expect(try await count(fleet, "SELECT COUNT(*) AS n FROM \(table) WHERE account_id = ?", "keep") == 1)
        }
        let again = try await CLIProcess.run(["accounts", "delete", "acme", "--purge"], environment: environment)
        #expect(again.status != 0 && again.errors.contains("no account acme"), "\(again.errors)")
        await fleet.shutdown()
    }

    @Test("every table with an account_id column is either purged or kept on purge (a new table cannot be forgotten)")
    func everyTableDecided() async throws {
        let fleet = try await E2EFleet()
        let tables = try await fleet.withStore { store in
            try await store.database.query("SELECT name FROM sqlite_master WHERE type = 'table'", []).compactMap {
                $0["name"].text
            }
        }
        var withAccount: Set<String> = []
        for table in tables {
            let columns = try await fleet.withStore { store in
                try await store.database.query("SELECT name FROM pragma_table_info(?)", [.text(table)]).compactMap {
                    $0["name"].text
                }
            }
            if columns.contains("account_id") { withAccount.insert(table) }
        }
        #expect(withAccount.count >= 9)
        #expect(withAccount == Set(Store.purgedTables + Store.keptOnPurge))
        await fleet.shutdown()
    }
}
