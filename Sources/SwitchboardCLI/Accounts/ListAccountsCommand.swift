import ArgumentParser
import SwitchboardDomain
import SwitchboardJSON
import SwitchboardStore
import OperatorKit

/// `switchboard accounts list`.
struct ListAccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List accounts (no secrets).")

    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let (accounts, health) = try await Store.withStore(
            try store.location(environment), logger: CLIEnvironment.logger
        ) { (try await $0.accounts(), try await $0.accountHealth()) }
        let summaries = accounts.map { AccountSummary($0, health: health[$0.id] ?? []) }
        if json { return try JSONOutput.print(summaries) }
        StandardOutput.line(
            TextTable.render(
                ["ID", "STATUS", "GORGIAS", "AUTH", "SMS SENDER", "BRAND", "HEALTH"],
                summaries.map {
                    [
                        $0.id, $0.status, $0.gorgiasBaseURL, $0.gorgiasAuth, $0.sender, $0.settings.brand,
                        $0.healthSummary,
                    ]
                }
            ))
    }
}

/// `switchboard accounts show <id>`.
struct ShowAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one account and its settings (no secrets).")

    @Argument(help: "Account id.") var id: String
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let (found, health) = try await Store.withStore(
            try store.location(environment), logger: CLIEnvironment.logger
        ) { (try await $0.account(id: id), try await $0.accountHealth()[id] ?? []) }
        guard let account = found else { throw CLIError.notFound("no account \(id)") }
        let summary = AccountSummary(account, health: health)
        if json { return try JSONOutput.print(summary) }
        StandardOutput.line(
            TextTable.render(
                ["FIELD", "VALUE"],
                [
                    ["id", summary.id], ["status", summary.status], ["gorgias", summary.gorgiasBaseURL],
                    ["gorgias auth", summary.gorgiasAuth],
                    ["gorgias email", summary.gorgiasEmail ?? "-"], ["sms api", summary.smsBaseURL],
                    ["sms account", summary.smsAccountSid],
                    ["sms sender", summary.sender], ["brand", summary.settings.brand],
                    ["stop closes ticket", "\(summary.settings.stopClosesTicket)"],
                    [
                        "closed-ticket policy",
                        "\(summary.settings.closedTicketPolicy.rawValue) (reopen window \(summary.settings.reopenWindowHours) h)",
                    ],
                    ["help text", summary.settings.effectiveHelpText],
                    ["consent replies", summary.settings.consentReplies.rawValue],
                    ["extra keywords", Self.describe(summary.settings.extraKeywords)],
                    [
                        "conversational replies",
                        summary.settings.conversationalReplyHours.map { "\($0) h after the last text" } ?? "off",
                    ],
                    ["rule replies by SMS", "\(summary.settings.forwardRuleReplies)"],
                    ["gorgias integration", summary.gorgiasIntegrationId.map(String.init) ?? "-"],
                    ["credentials", "encrypted (never shown)"],
                    ["health", summary.healthSummary],
                ]
                    + summary.health.map { check in
                        [
                            "  \(check.check)",
                            "\(check.healthy ? "ok" : "FAILING"): \(check.detail) (since \(RFC3339.format(check.changedAt)), checked \(RFC3339.format(check.checkedAt)))",
                        ]
                    }))
    }
}

extension ShowAccountCommand {
    static func describe(_ vocabulary: ConsentKeyword.Vocabulary) -> String {
        guard !vocabulary.isEmpty else { return "none" }
        return [("STOP", vocabulary.optOut), ("START", vocabulary.optIn), ("HELP", vocabulary.help)]
            .filter { !$0.1.isEmpty }.map { "\($0.0): \($0.1.joined(separator: ", "))" }.joined(separator: "; ")
    }
}
