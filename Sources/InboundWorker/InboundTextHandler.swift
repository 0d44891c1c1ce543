import Foundation
import Logging
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardRuntime
import SwitchboardStore
import WorkerKit

/// Handles `sms.message.received` from `sms.inbound` and `sms.consent`: consent keywords (by the provider's
/// `OptOutType` or the account's vocabulary) go to ``ConsentKeywordHandler`` whatever the account's state, so no
/// opt-out is lost; other texts of unknown or disconnected accounts are skipped, the rest imported by ``TextImporter``.
///
/// An opt-in or help word that changed nothing (a subscribed customer's "Yes" to an agent's question, an "Info")
/// is also the customer's answer: with a ticket open it is imported as their message, the keyword's effect noted
/// beside it; with none it opens none (a "YES" to a marketing text is not a support request). STOP-family words are
/// never imported.
struct InboundTextHandler: EventHandler {
    let accounts: AccountDirectory
    let store: Store
    let consent: ConsentKeywordHandler
    let importer: TextImporter

    init(accounts: AccountDirectory, store: Store) {
        self.accounts = accounts
        self.store = store
        self.consent = ConsentKeywordHandler(store: store)
        self.importer = TextImporter(store: store)
    }

    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        let text = try InboundText(event)
        let entry = try await accounts.entry(text.accountId)
        if let keyword = text.consentKeyword(extra: entry?.account.settings.extraKeywords ?? .none) {
            let outcome = try await consent.handle(
                keyword, text: text, eventId: event.id, entry: entry, logger: context.logger)
            guard keyword != .optOut, outcome.changedNothing, let entry, entry.account.status == .connected,
                let ticket = try await store.activeTicketId(accountId: entry.account.id, phone: text.from)
            else { return outcome.result }
            return try await forward(text, event: event, effect: outcome.effect, ticket: ticket, entry: entry, context)
        }
        guard let entry else {
            return .ignored("unknown account \(text.accountId)")
        }
        guard entry.account.status == .connected else {
            return .ignored("account \(text.accountId) is disconnected")
        }
        guard !text.body.allSatisfy(\.isWhitespace) || !text.media.isEmpty else {
            return .ignored("empty text without media")
        }
        let imported = try await importer.importText(
            text, entry: entry, ledger: context.ledgerEntry(for: event, outcome: .processed))
        context.logger.info("text imported", metadata: ["target": "\(imported.target)"])
        return HandlerResult(.processed, recordedInLedger: imported.recordedInLedger)
    }

    /// Imports a keyword that changed nothing as the customer's message on their open ticket, with a note of what the
    /// keyword did besides (HELP's answer), after the message.
    private func forward(
        _ text: InboundText, event: CloudEvent, effect: String?, ticket: Int64, entry: AccountDirectory.Entry,
        _ context: HandlerContext
    ) async throws -> HandlerResult {
        let imported = try await importer.importText(
            text, entry: entry, ledger: context.ledgerEntry(for: event, outcome: .processed))
        if let effect {
            try await store.scheduleFollowUp(
                HelpdeskFollowUp(
                    accountId: entry.account.id, key: "note:\(event.id):keyword", ticketId: ticket, note: effect,
                    closeTicket: false))
        }
        context.logger.info("keyword forwarded as the customer's answer", metadata: ["target": "\(imported.target)"])
        return HandlerResult(.processed, recordedInLedger: imported.recordedInLedger)
    }
}
