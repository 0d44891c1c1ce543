import SwitchboardDomain
import SwitchboardEvents
import SwitchboardRuntime
import SwitchboardSMS
import SwitchboardStore
import WorkerKit

/// Advances an outbound SMS's state monotonically (out-of-order callbacks never move it back). A failed or
/// undelivered reply gets one internal note on its ticket with the reason in words; the provider's opt-out codes
/// (``SMSErrorCodes/optOutCodes``) unsubscribe the customer, other codes (30004 "blocked" among them) do not.
///
/// Each step is idempotent (monotonic state, consent by time, the note journaled per message), so the ledger entry is
/// written by the runtime only after the note is posted: a retry finishes what a failure left undone.
struct DeliveryStatusHandler: Sendable {
    let accounts: AccountDirectory
    let store: Store
    let notes: NotePoster

    init(accounts: AccountDirectory, store: Store) {
        self.accounts = accounts
        self.store = store
        self.notes = NotePoster(store: store)
    }

    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        let update = try DeliveryUpdate(event)
        guard let entry = try await accounts.entry(update.accountId) else {
            return .ignored("unknown account \(update.accountId)")
        }
        guard let state = OutboundState.fromProvider(update.status) else {
            return .ignored("status \(update.status) is not tracked")
        }
        let message: OutboundMessage
        switch try await store.applyDeliveryStatus(
            accountId: update.accountId, providerSid: update.messageSid, state: state, errorCode: update.errorCode,
            at: update.at)
        {
        case .unknownMessage?, nil: return .ignored("not a reply Switchboard sent")
        case .stale(let current)?: message = current
        case .advanced(_, let advanced)?: message = advanced
        }
        guard [.failed, .undelivered, .partiallyDelivered].contains(message.state) else {
            return .processed("reply \(message.id) is \(message.state)")
        }
        let code = message.errorCode ?? update.errorCode
        if let code, SMSErrorCodes.optOutCodes.contains(code) {
            _ = try await store.applyConsent(
                ConsentChange(
                    accountId: update.accountId, phone: message.toPhone, state: .unsubscribed, at: update.at,
                    source: ConsentSource.provider(code: code), eventId: event.id
                ))
        }
        guard entry.account.status == .connected else { return .ignored("account disconnected: no note posted") }
        try await notes.post(
            entry, ticketId: message.ticketId, key: "note:delivery:\(update.messageSid)",
            text: message.state == .partiallyDelivered
                ? DeliveryNotes.partiallyDelivered(code: code) : DeliveryNotes.failed(code: code))
        return .processed(
            "reply \(message.id) \(message.state) (error \(code.map(String.init) ?? "none")); noted on ticket \(message.ticketId)"
        )
    }
}

enum DeliveryNotes {
    /// Some of the reply reached the customer (one of its media, or segments, did not).
    static func partiallyDelivered(code: Int?) -> String {
        "This SMS reply was only partly delivered\(code.map { ": \(SMSErrorCodes.explain($0))" } ?? ""). Part of it (an image, or some of the text) may be missing on the customer's phone."
    }

    static func failed(code: Int?) -> String {
        guard let code else { return "This SMS reply was not delivered; the provider gave no reason." }
        let unsubscribed =
            SMSErrorCodes.optOutCodes.contains(code) ? " Switchboard marked the customer unsubscribed." : ""
        return "This SMS reply was not delivered: \(SMSErrorCodes.explain(code)).\(unsubscribed)"
    }
}
