import ArgumentParser
import Foundation
import SwitchboardDomain
import SwitchboardJSON
import SwitchboardStore
import OperatorKit
import SwitchboardBase

/// `switchboard conversations …`: conversation analytics and lookups.
struct ConversationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conversations",
        abstract: "Conversation analytics and lookups.",
        subcommands: [ConversationStatsCommand.self, ShowConversationCommand.self]
    )
}

/// `switchboard conversations stats`: counts by status, median time to close, opt-outs per day.
struct ConversationStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Tickets by status, median time to close, opt-outs per day.")

    @Option(help: "Only this account.") var account: String?
    @Option(help: "Days of opt-outs to show.") var days = 14
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let (account, window) = (self.account, self.days)
        let stats = try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) { store in
            try await store.conversationStats(accountId: account, days: window)
        }
        if json { return try JSONOutput.print(stats) }
        let median = stats.medianTimeToCloseSeconds.map(Self.duration) ?? "-"
        var lines = [
            "Conversations: \(stats.conversations)",
            "Tickets: \(stats.ticketsByStatus["open", default: 0]) open, \(stats.ticketsByStatus["snoozed", default: 0]) snoozed, \(stats.ticketsByStatus["closed", default: 0]) closed",
            "Median time to close: \(median)",
            "Opt-outs per day (UTC):",
        ]
        let dates = stats.optOutsPerDay.keys.sorted()
        lines += dates.isEmpty ? ["  none"] : dates.map { "  \($0)  \(stats.optOutsPerDay[$0]!)" }
        StandardOutput.line(lines.joined(separator: "\n"))
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 86400 { return "\(total / 86400)d \(total % 86400 / 3600)h" }
        if total >= 3600 { return "\(total / 3600)h \(total % 3600 / 60)m" }
        if total >= 60 { return "\(total / 60)m \(total % 60)s" }
        return "\(total)s"
    }
}

/// `switchboard conversations show --account A --phone P`: one conversation, its tickets and consent.
struct ShowConversationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "One conversation: customer, current ticket, status history, consent.")

    @Option(help: "Account id.") var account: String
    @Option(help: "Customer phone (E.164).") var phone: String
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var store: StoreOptions

    struct View: Codable {
        var conversationId: String
        var customerId: Int64?
        var currentTicketId: Int64?
        var ticketStatus: String?
        var snoozedUntil: Date?
        var history: [String]
        var consent: String?
        var consentSource: String?
        var consentChangedAt: Date?
    }

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let (account, phone) = (self.account, self.phone)
        let view = try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) {
            store -> View? in
            guard let conversation = try await store.conversation(accountId: account, phone: phone) else { return nil }
            let ticket =
                try await conversation.currentTicketId.asyncMap {
                    try await store.ticket(accountId: account, ticketId: $0)
                } ?? nil
            let history =
                try await conversation.currentTicketId.asyncMap {
                    try await store.ticketHistory(accountId: account, ticketId: $0)
                } ?? []
            let subscriber = try await store.subscriber(accountId: account, phone: phone)
            return View(
                conversationId: conversation.id, customerId: conversation.customerId,
                currentTicketId: conversation.currentTicketId,
                ticketStatus: ticket.map { $0.isSnoozed ? "snoozed" : $0.status.rawValue },
                snoozedUntil: ticket?.snoozedUntil,
                history: history.map {
                    "\(RFC3339.format($0.at)) \($0.status.rawValue)\($0.snoozedUntil.map { " until \(RFC3339.format($0))" } ?? "")"
                },
                consent: subscriber?.state.rawValue, consentSource: subscriber?.source,
                consentChangedAt: subscriber?.changedAt
            )
        }
        guard let view else { throw CLIError.notFound("no conversation for \(phone) in account \(account)") }
        if json { return try JSONOutput.print(view) }
        StandardOutput.line(
            TextTable.render(
                ["FIELD", "VALUE"],
                [
                    ["conversation", view.conversationId],
                    ["gorgias customer", view.customerId.map(String.init) ?? "-"],
                    ["current ticket", view.currentTicketId.map(String.init) ?? "-"],
                    ["ticket status", view.ticketStatus ?? "-"],
                    ["consent", "\(view.consent ?? "none") \(view.consentSource.map { "(\($0))" } ?? "")"],
                ] + view.history.map { ["history", $0] }))
    }
}
