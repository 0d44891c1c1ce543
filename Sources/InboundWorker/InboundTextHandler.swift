import Foundation
import Logging
import Shared

/// Handles `sms.message.received` from `sms.inbound` and `sms.consent`: consent keywords (by the provider's
/// `OptOutType` or the account's vocabulary) go to ``ConsentKeywordHandler`` whatever the account's state, so no
/// opt-out is lost; other texts of unknown or disconnected accounts are skipped, the rest imported by ``TextImporter``.
struct InboundTextHandler: EventHandler {
    let accounts: AccountDirectory
    let consent: ConsentKeywordHandler
    let importer: TextImporter

    init(accounts: AccountDirectory, store: Store) {
        self.accounts = accounts
        self.consent = ConsentKeywordHandler(store: store)
        self.importer = TextImporter(store: store)
    }

    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        let text = try InboundText(event)
        let entry = try await accounts.entry(text.accountId)
        if let keyword = text.consentKeyword(extra: entry?.account.settings.extraKeywords ?? .none) {
            return try await consent.handle(
                keyword, text: text, eventId: event.id, entry: entry, logger: context.logger)
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
}
