import Foundation
import Shared

/// Handles `sms.message.received`: skips unknown and disconnected accounts, routes consent keywords to
/// ``ConsentKeywordHandler`` and everything else to ``TextImporter``.
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
        guard let entry = try await accounts.entry(text.accountId) else {
            return .ignored("unknown account \(text.accountId)")
        }
        guard entry.account.status == .connected else {
            return .ignored("account \(text.accountId) is disconnected")
        }
        if let keyword = ConsentKeyword.match(text.body) {
            try await consent.handle(keyword, text: text, eventId: event.id, entry: entry)
            return .processed
        }
        guard !text.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || !text.media.isEmpty else {
            return .ignored("empty text without media")
        }
        try await importer.importText(text, entry: entry)
        return .processed
    }
}
