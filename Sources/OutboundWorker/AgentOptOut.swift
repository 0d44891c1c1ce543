import Foundation
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardStore

/// `#optout` or `#opt-out` anywhere in an agent's reply: the customer is unsubscribed at once, the reply is not
/// sent, and the note (with the account's STOP setting applied to the ticket) follows as a helpdesk follow-up,
/// committed with the consent change (see ``HelpdeskFollowUp``).
///
/// Whatever the customer's consent was (subscribed, pending, none on record), the opt-out is recorded: the
/// conversational-reply window would otherwise let the next reply through. Only a customer already unsubscribed
/// is left as they are, and a `#optout` older than a consent change already on record (the customer texted START
/// after it, say) changes nothing: the note says so in both cases.
struct AgentOptOut: Sendable {
    let store: Store

    func run(_ job: ReplyJob) async throws {
        let account = job.account
        let subscriber = try await store.subscriber(accountId: account.id, phone: job.phone)
        if let subscriber, subscriber.state == .unsubscribed {
            let why =
                "they were already unsubscribed on \(ReplyNotes.readable(subscriber.changedAt)) (\(ConsentSource.describe(subscriber.source)))"
            try await store.scheduleFollowUp(
                followUp(job, note: ReplyNotes.cannotOptOut(job.phone, why: why), close: false))
            return
        }
        let closes = account.settings.stopClosesTicket
        let at = job.message.createdDatetime.flatMap(GorgiasDate.parse) ?? Date()
        let change = ConsentChange(
            accountId: account.id, phone: job.phone, state: .unsubscribed, at: at, source: ConsentSource.agentOptOut,
            eventId: job.eventId, keyword: "#optout"
        )
        let note = ReplyNotes.optedOutByAgent(
            job.phone, agent: job.message.sender?.name, ticketClosed: closes, before: subscriber?.state)
        switch try await store.applyConsent(change, followUp: followUp(job, note: note, close: closes)) {
        case .applied?, nil:
            return
        case .stale(let current)?, .refused(let current)?:
            let why =
                "a newer consent change stands: \(current.state.rawValue) since \(ReplyNotes.readable(current.changedAt)) (\(ConsentSource.describe(current.source)))"
            try await store.scheduleFollowUp(
                followUp(job, note: ReplyNotes.cannotOptOut(job.phone, why: why), close: false))
        }
    }

    private func followUp(_ job: ReplyJob, note: String, close: Bool) -> HelpdeskFollowUp {
        HelpdeskFollowUp(
            accountId: job.account.id, key: job.noteKey("opt-out"), ticketId: job.ticketId, note: note,
            closeTicket: close)
    }
}
