import ArgumentParser

/// `switchboard accounts …`: the merchants Switchboard serves.
struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract:
            "Add or connect (OAuth), change, list, show, disconnect, reconnect and delete accounts. Secrets are encrypted and never printed.",
        subcommands: [
            AddAccountCommand.self, ConnectAccountCommand.self, SetAccountCommand.self, ListAccountsCommand.self,
            ShowAccountCommand.self,
            ReplaceCredentialsCommand.self, DisconnectAccountCommand.self, ReconnectAccountCommand.self,
            DeleteAccountCommand.self,
        ]
    )
}
