import Foundation

/// Sends a system SMS (consent confirmation, HELP reply) at most once per key. The attempt is journaled before the
/// provider call; a retry after a crash or an unanswered call looks for the message in the provider's list instead
/// of sending it again.
public struct OneOffSMS: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    public enum Outcome: Sendable, Equatable {
        case sent(sid: String)
        case alreadySent
        /// The provider refused because the recipient opted out there (e.g. it already answered the STOP itself).
        case refusedOptedOut
    }

    public func send(_ entry: AccountDirectory.Entry, key: String, to phone: String, body: String) async throws -> Outcome {
        let accountId = entry.account.id
        if let existing = try await store.beginEffect(accountId: accountId, key: key) {
            if existing.state == .done { return .alreadySent }
            let reconciler = SMSReconciler(sms: entry.sms, store: store, accountId: accountId)
            if let sent = try await reconciler.findSent(to: phone, sender: entry.account.smsSender, body: body, mediaCount: 0, attemptedAt: existing.startedAt) {
                try await store.completeEffect(accountId: accountId, key: key, reference: sent.sid)
                return .alreadySent
            }
        }
        do {
            let message = try await entry.sms.send(to: phone, sender: entry.account.smsSender, body: body)
            try await store.completeEffect(accountId: accountId, key: key, reference: message.sid)
            return .sent(sid: message.sid)
        } catch let error as SMSError where error.isOptOut {
            try await store.completeEffect(accountId: accountId, key: key, reference: "refused:\(error.code ?? 0)")
            return .refusedOptedOut
        }
    }
}

/// Finds a message Switchboard already sent, after a crash or a lost response (external-apis.md §3.2: there is no
/// idempotency key on Message create).
///
/// What it matches: the recipient and sender, a creation time from just before the attempt on, the exact body and
/// the number of media — and a message no other outbound record or system SMS has claimed, so two identical replies
/// to one customer stay two SMS. Switchboard never asks Twilio to rewrite bodies (no `SmartEncoded`, no
/// `ShortenUrls`), so the body it recorded is the body Twilio lists. Of several candidates the oldest is taken: the
/// earliest send after the attempt is the attempt's own.
public struct SMSReconciler: Sendable {
    let sms: SMSClient
    let store: Store
    let accountId: String

    public init(sms: SMSClient, store: Store, accountId: String) {
        self.sms = sms
        self.store = store
        self.accountId = accountId
    }

    /// The unclaimed message to `phone` with `body` and `mediaCount` media created since `attemptedAt` (less a margin
    /// for clocks), if the provider has one.
    public func findSent(to phone: String, sender: Account.SMSSender, body: String, mediaCount: Int, attemptedAt: Date) async throws -> SMSMessage? {
        let candidates = try await sms.messages(to: phone, sender: sender, since: attemptedAt.addingTimeInterval(-5)).filter { message in
            guard message.body == body, Int(message.numMedia ?? "0") ?? 0 == mediaCount else { return false }
            if case .messagingService(let service) = sender, let listed = message.messagingServiceSid { return listed == service }
            return true
        }
        for message in candidates.reversed() where try await !store.isProviderMessageClaimed(accountId: accountId, sid: message.sid) {
            return message
        }
        return nil
    }
}
