import Foundation
import SwitchboardDomain
import SwitchboardSMS
import SwitchboardStore

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

    public func send(_ entry: AccountDirectory.Entry, key: String, to phone: String, body: String) async throws
        -> Outcome
    {
        let accountId = entry.account.id
        let sender = entry.account.smsSender
        let outcome = try await EffectJournal(store: store, accountId: accountId).once(
            key: key,
            find: { startedAt -> Delivery? in
                let reconciler = SMSReconciler(sms: entry.sms, store: store, accountId: accountId)
                return try await reconciler.findSent(
                    to: phone, sender: sender, body: body, mediaCount: 0, attemptedAt: startedAt
                ).map { .sent($0.sid) }
            },
            create: { () -> Delivery in
                do {
                    return .sent(try await entry.sms.send(to: phone, sender: sender, body: body).sid)
                } catch let error as SMSError where error.isOptOut {
                    return .refused(code: error.code ?? 0)
                }
            },
            reference: \.reference
        )
        switch outcome {
        case .alreadyDone, .found: return .alreadySent
        case .created(.sent(let sid)): return .sent(sid: sid)
        case .created(.refused): return .refusedOptedOut
        }
    }

    /// What the provider did with one send.
    private enum Delivery {
        case sent(String)
        case refused(code: Int)

        var reference: String {
            switch self {
            case .sent(let sid): sid
            case .refused(let code): "refused:\(code)"
            }
        }
    }
}

/// Finds a message Switchboard already sent, after a crash or a lost response (contracts/twilio/twilio_api_v2010.json, Message.date_sent: there is no
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
    public func findSent(to phone: String, sender: Account.SMSSender, body: String, mediaCount: Int, attemptedAt: Date)
        async throws -> SMSMessage?
    {
        let candidates = try await sms.messages(to: phone, sender: sender, since: attemptedAt.addingTimeInterval(-5))
            .filter { message in
                guard message.body == body, Int(message.numMedia ?? "0") ?? 0 == mediaCount else { return false }
                if case .messagingService(let service) = sender, let listed = message.messagingServiceSid {
                    return listed == service
                }
                return true
            }
        for message in candidates.reversed()
        where try await !store.isProviderMessageClaimed(accountId: accountId, sid: message.sid) {
            return message
        }
        return nil
    }
}
