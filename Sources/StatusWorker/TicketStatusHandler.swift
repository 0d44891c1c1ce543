import SwitchboardDomain
import SwitchboardEvents
import SwitchboardRuntime
import SwitchboardStore

/// Mirrors a ticket's status (open, closed, snoozed, reopened) on its conversation, with history; older or
/// duplicate updates change nothing. The mirror and the ledger entry commit in one transaction.
struct TicketStatusHandler: Sendable {
    let store: Store

    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        let update = try TicketUpdate(event)
        let change = TicketStatusChange(
            accountId: update.accountId, ticketId: update.ticketId, status: update.status,
            snoozedUntil: update.snoozedUntil, updatedAt: update.updatedAt
        )
        switch try await store.applyTicketStatus(
            change, recording: context.ledgerEntry(for: event, outcome: .processed))
        {
        case .applied?:
            return .processed("ticket \(update.ticketId) is \(update.status) in the mirror", recordedInLedger: true)
        case .stale?: return .ignored("a newer status is already mirrored", recordedInLedger: true)
        case .unknownTicket?:
            return .ignored("ticket \(update.ticketId) belongs to no Switchboard conversation", recordedInLedger: true)
        case nil: return .ignored("already handled by another worker", recordedInLedger: true)
        }
    }
}
