import Foundation
import SwitchboardGorgias
import SwitchboardStore
import SwitchboardDomain
import SwitchboardBase

/// Posts an internal note at most once per key: the attempt is journaled first, the note carries the key as its
/// `external_id`, and a retry after a crash looks for it in the ticket before posting again.
public struct NotePoster: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// Posts `text` as an internal note on `ticketId`, once for `key` (e.g. `note:<event id>:optout`).
    public func post(_ entry: AccountDirectory.Entry, ticketId: Int64, key: String, text: String) async throws {
        _ = try await EffectJournal(store: store, accountId: entry.account.id).once(
            key: key,
            find: { _ in
                try await entry.gorgias.messages(ticketId: ticketId).first(where: { $0.externalId == key })
                    .map { GorgiasCreatedMessage(id: $0.id) }
            },
            create: {
                try await entry.gorgias.createMessage(
                    ticketId: ticketId,
                    GorgiasNewMessage(
                        channel: "internal-note", via: "api", fromAgent: true, public: false, sender: nil,
                        bodyText: text, bodyHTML: "<p>\(HTMLText.escape(text))</p>", externalId: key
                    ))
            },
            reference: { String($0.id) }
        )
    }
}
