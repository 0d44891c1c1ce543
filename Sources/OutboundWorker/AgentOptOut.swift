import Foundation
import Shared

/// `#optout` or `#opt-out` anywhere in an agent's reply: the customer is unsubscribed at once, the reply is not
/// sent, and the note (with the account's STOP setting applied to the ticket) follows as a helpdesk follow-up,
/// committed with the consent change (see ``HelpdeskFollowUp``). When the customer cannot be opted out, the note
/// says exactly why.
struct AgentOptOut: Sendable {
    let store: Store

    func run(_ job: ReplyJob) async throws {
        let account = job.account
        let subscriber = try await store.subscriber(accountId: account.id, phone: job.phone)
        let why: String
        switch subscriber?.state {
        case nil:
            why = "there is no SMS consent on record for this number, so there is nothing to revoke"
        case .pending?:
            why =
                "they never confirmed SMS consent (pending since \(ReplyNotes.readable(subscriber!.changedAt))), so no SMS can be sent anyway"
        case .unsubscribed?:
            why =
                "they were already unsubscribed on \(ReplyNotes.readable(subscriber!.changedAt)) (\(ConsentSource.describe(subscriber!.source)))"
        case .subscribed?:
            let closes = account.settings.stopClosesTicket
            let at = job.message.createdDatetime.flatMap(GorgiasDate.parse) ?? Date()
            let change = ConsentChange(
                accountId: account.id, phone: job.phone, state: .unsubscribed, at: at,
                source: ConsentSource.agentOptOut,
                eventId: job.eventId, keyword: "#optout"
            )
            let note = ReplyNotes.optedOutByAgent(job.phone, agent: job.message.sender?.name, ticketClosed: closes)
            _ = try await store.applyConsent(change, followUp: followUp(job, note: note, close: closes))
            return
        }
        try await store.scheduleFollowUp(
            followUp(job, note: ReplyNotes.cannotOptOut(job.phone, why: why), close: false))
    }

    private func followUp(_ job: ReplyJob, note: String, close: Bool) -> HelpdeskFollowUp {
        HelpdeskFollowUp(
            accountId: job.account.id, key: job.noteKey("opt-out"), ticketId: job.ticketId, note: note,
            closeTicket: close)
    }
}
