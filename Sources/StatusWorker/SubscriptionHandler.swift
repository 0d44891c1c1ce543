import SwitchboardDomain
import SwitchboardEvents
import SwitchboardRuntime
import SwitchboardStore
import WorkerKit

/// Applies consent changes from upstream sources (a confirmed sign-up subscribes, a pending one stays pending, an
/// upstream unsubscribe unsubscribes), in event-time order, never over a newer change, and never over the customer's
/// own opt-out (``ConsentSource/mayReplace(_:with:)``: only their START undoes it). Consent and the ledger entry
/// commit together. A change for an account Switchboard does not know is ignored, so no one can pre-subscribe
/// numbers for an account id before it exists.
struct SubscriptionHandler: Sendable {
    let accounts: AccountDirectory
    let store: Store

    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        let update = try SubscriptionUpdate(event)
        guard try await accounts.entry(update.accountId) != nil else {
            return .ignored("unknown account \(update.accountId)")
        }
        let change = ConsentChange(
            accountId: update.accountId, phone: update.phone, state: update.state, at: update.at,
            source: ConsentSource.upstream(update.source),
            name: update.customer.name, email: update.customer.email, eventId: event.id
        )
        switch try await store.applyConsent(change, recording: context.ledgerEntry(for: event, outcome: .processed)) {
        case .applied?:
            return .processed("consent \(update.state) recorded from \(update.source)", recordedInLedger: true)
        case .stale?: return .ignored("a newer consent change stands", recordedInLedger: true)
        case .refused(let current)?:
            return .ignored(
                "the customer opted out themselves (\(ConsentSource.describe(current.source))); only their START re-subscribes them",
                recordedInLedger: true)
        case nil: return .ignored("already handled by another worker", recordedInLedger: true)
        }
    }
}
