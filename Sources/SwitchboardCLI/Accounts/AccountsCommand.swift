import ArgumentParser

/// `switchboard accounts …`: the merchants Switchboard serves.
struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Add, list, show, disconnect and reconnect accounts. Secrets are encrypted and never printed.",
        subcommands: [
            AddAccountCommand.self, ListAccountsCommand.self, ShowAccountCommand.self,
            DisconnectAccountCommand.self, ReconnectAccountCommand.self,
        ]
    )
}
