import Foundation
import SwitchboardStore

/// When the ingress first saw a provider's webhook, by a key the provider's own data gives it (a message SID, a
/// status, a Gorgias event). A provider retrying a delivery gets the first time back, so the retried event is the
/// same event byte for byte, which the ledger skips as a duplicate instead of dead-lettering it as a conflict.
public protocol WebhookReceipts: Sendable {
    /// The time `key` of `accountId` was first seen; `now` when it is new.
    func firstSeen(accountId: String, key: String, now: Date) async throws -> Date
}

extension Store: WebhookReceipts {}
