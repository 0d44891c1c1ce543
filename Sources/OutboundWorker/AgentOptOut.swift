import Foundation
import Shared

/// `#optout` or `#opt-out` anywhere in an agent's reply: the customer is unsubscribed, the reply is not sent, a note
/// explains it, and the account's STOP setting applies to the ticket. When the customer cannot be opted out, the note
/// says exactly why.
struct AgentOptOut: Sendable {
    let store: Store
    let notes: NotePoster

    init(store: Store) {
        self.store = store
        self.notes = NotePoster(store: store)
    }

    func run(_ job: ReplyJob) async throws {
        let account = job.account
        let subscriber = try await store.subscriber(accountId: account.id, phone: job.phone)
        let note: String
        var close = false
        switch subscriber?.state {
        case nil:
            note = ReplyNotes.cannotOptOut(job.phone, why: "there is no SMS consent on record for this number, so there is nothing to revoke")
        case .pending?:
            note = ReplyNotes.cannotOptOut(job.phone, why: "they never confirmed SMS consent (pending since \(ReplyNotes.readable(subscriber!.changedAt))), so no SMS can be sent anyway")
        case .unsubscribed?:
            note = ReplyNotes.cannotOptOut(job.phone, why: "they were already unsubscribed on \(ReplyNotes.readable(subscriber!.changedAt)) (\(ReplyNotes.describe(source: subscriber!.source)))")
        case .subscribed?:
            let at = job.message.createdDatetime.flatMap(GorgiasDate.parse) ?? Date()
            _ = try await store.applyConsent(ConsentChange(accountId: account.id, phone: job.phone, state: .unsubscribed, at: at, source: "agent:#optout"))
            note = ReplyNotes.optedOutByAgent(job.phone, agent: job.message.sender?.name, ticketClosed: account.settings.stopClosesTicket)
            close = account.settings.stopClosesTicket
        }
        try await notes.post(job.entry, ticketId: job.ticketId, key: job.noteKey("opt-out"), text: note)
        if close {
            try await job.entry.gorgias.setTicketStatus(id: job.ticketId, .closed)
            _ = try await store.applyTicketStatus(TicketStatusChange(accountId: account.id, ticketId: job.ticketId, status: .closed, snoozedUntil: nil, updatedAt: Date()))
        }
    }
}
