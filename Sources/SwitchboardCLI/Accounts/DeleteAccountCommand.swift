import ArgumentParser
import Foundation
import SwitchboardBase
import SwitchboardDomain
import SwitchboardStore
import OperatorKit

/// `switchboard accounts delete <id> --purge`: removes an account and what Switchboard holds for it, keeping its
/// consent record (``Store/keptOnPurge``).
struct DeleteAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete an account and purge its data, keeping its consent record as evidence.",
        discussion: """
            Removes the Gorgias HTTP integration registered for it (if Gorgias cannot be reached, says which to remove \
            by hand), then in one transaction the account, its credentials, conversations, tickets, the outbound \
            journal, effects, helpdesk follow-ups, webhook receipts, rate budgets and parked keys. Subscribers and \
            consent history are kept: they prove consent and opt-outs, and keep a STOP standing if the account is \
            added again. --purge is required (to stop serving an account and keep its data, use disconnect).
            """
    )

    @Argument(help: "Account id.") var id: String
    @Flag(help: "Required: confirms the account's data is to be deleted.") var purge = false
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard purge else {
            throw ValidationError(
                "accounts delete removes data for good: add --purge (or use accounts disconnect to keep it)")
        }
    }

    func run() async throws {
        let environment = try CLIEnvironment.load()
        try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) { store in
            guard let account = try await store.account(id: id) else { throw CLIError.notFound("no account \(id)") }
            var warnings: [String] = []
            if let integration = account.gorgiasIntegrationId {
                do {
                    try await IngressConnection.disconnect(
                        accountId: id, store: store, box: try SecretBox.from(environment))
                } catch {
                    warnings.append(
                        "warning: the Gorgias HTTP integration \(integration) of \(account.gorgiasBaseURL) could not be removed (\(ProcessingFailure.classify(error).errorClass)); remove it in Gorgias' settings"
                    )
                }
            }
            guard let deleted = try await store.purgeAccount(id: id) else {
                throw CLIError.notFound("no account \(id)")
            }
            let kept = try await store.keptConsentRows(accountId: id)
            for warning in warnings { StandardError.line(warning) }
            if json {
                return try JSONOutput.print(
                    PurgeSummary(
                        account: id,
                        deleted: Dictionary(uniqueKeysWithValues: deleted.map { ($0.table, $0.rows) }),
                        kept: Dictionary(uniqueKeysWithValues: kept.map { ($0.table, $0.rows) })))
            }
            StandardOutput.line("deleted account \(id)")
            for (table, rows) in deleted { StandardOutput.line("  \(table): \(rows) removed") }
            for (table, rows) in kept { StandardOutput.line("  \(table): \(rows) kept (consent evidence)") }
        }
    }

    /// The `--json` shape.
    struct PurgeSummary: Encodable {
        var account: String
        var deleted: [String: Int]
        var kept: [String: Int]
    }
}
