import ArgumentParser
import Foundation
import SwitchboardDomain
import SwitchboardStore
import OperatorKit

/// `switchboard accounts set <id> --<setting> <value>…`: changes settings after `add`, with the same checks. Workers
/// pick the change up within `ACCOUNT_CACHE_TTL`.
struct SetAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Change an account's settings (the same options and checks as add).",
        discussion: "Only the settings given change. Workers see the change within ACCOUNT_CACHE_TTL (10 s by default)."
    )

    @Argument(help: "Account id.") var id: String
    @OptionGroup var settings: AccountSettingsOptions
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard !settings.given.isEmpty else { throw ValidationError("give at least one setting to change (see --help)") }
    }

    func run() async throws {
        let environment = try CLIEnvironment.load()
        try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) { store in
            guard var account = try await store.account(id: id) else { throw CLIError.notFound("no account \(id)") }
            try settings.apply(to: &account.settings)
            if settings.noticeWebhookUrl != nil {
                let box = try SecretBox.from(environment)
                var credentials = try account.credentials(box)
                if AccountSettingsOptions.keepNoticeKey(
                    &credentials, settings: account.settings, environment: environment)
                {
                    account.sealedCredentials = try credentials.sealed(box)
                    StandardOutput.line(
                        "notices to the webhook are signed (X-Switchboard-Signature); the key is kept sealed: set NOTICE_WEBHOOK_KEY to choose it"
                    )
                }
            }
            account.updatedAt = Date()
            try await store.updateAccount(account)
            StandardOutput.line("account \(id): set \(settings.given.joined(separator: ", "))")
        }
    }
}
