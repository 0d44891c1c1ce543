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
            let since = existing.startedAt.addingTimeInterval(-5)
            if let sent = try await SMSReconciler.findSent(entry.sms, to: phone, body: body, since: since) {
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
public enum SMSReconciler {
    /// The message to `phone` with exactly `body`, created at or after `since`, if the provider has it.
    public static func findSent(_ sms: SMSClient, to phone: String, body: String, since: Date) async throws -> SMSMessage? {
        try await sms.messages(to: phone, since: since).first { message in
            guard message.body == body else { return false }
            guard let created = message.dateCreated.flatMap(HTTPDate.parse) else { return true }
            return created >= since.addingTimeInterval(-1)
        }
    }
}
