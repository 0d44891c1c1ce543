import Foundation
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardGorgias
import SwitchboardStore
import WorkerKit

/// Finds the Switchboard conversation of a ticket Switchboard does not know yet, only where Gorgias shows a merge:
/// the ticket's customer (or, after a customer merge, one of their phone channels) has a conversation whose current
/// ticket Gorgias now redirects to this one (its 301 to the ticket a merge kept, contracts/gorgias/operations.json).
/// The conversation is re-pointed to the ticket, so a reply there is sent instead of being ignored.
///
/// Any other ticket of the same customer (an email ticket, another tool's) is not the conversation's: a reply there
/// is not texted, and later texts do not thread onto it. Tried only for a reply whose channel hint is `sms` or
/// absent, after the reply itself was read and found sendable; it costs a read of the ticket and one per candidate
/// conversation.
struct MergedTicketFinder: Sendable {
    let store: Store

    func conversation(for reply: HelpdeskMessage, entry: AccountDirectory.Entry) async throws -> Conversation? {
        guard reply.channel.map({ $0 == "sms" }) ?? true else { return nil }
        let ticket: GorgiasTicket
        do {
            ticket = try await entry.gorgias.ticket(id: reply.ticketId)
        } catch let error as GorgiasError where error.isGone {
            return nil
        }
        guard let customerId = ticket.customer?.id else { return nil }
        for conversation in try await candidates(customerId: customerId, entry: entry) {
            guard let current = conversation.currentTicketId, current != ticket.id else { continue }
            let now: Int64
            do {
                now = try await entry.gorgias.ticket(id: current).id
            } catch let error as GorgiasError where error.isGone {
                continue
            }
            guard now == ticket.id else { continue }
            try await store.setConversationCustomer(conversationId: conversation.id, customerId: customerId)
            try await store.followMergedTicket(accountId: entry.account.id, from: current, to: ticket.id)
            return try await store.conversation(accountId: entry.account.id, ticketId: ticket.id)
        }
        return nil
    }

    /// The conversations of the customer, or (a customer merge: the survivor carries the phone channels) of their
    /// phone numbers.
    private func candidates(customerId: Int64, entry: AccountDirectory.Entry) async throws -> [Conversation] {
        let known = try await store.conversations(accountId: entry.account.id, customerId: customerId)
        if !known.isEmpty { return known }
        var found: [Conversation] = []
        for channel in try await entry.gorgias.customer(id: customerId).channels ?? [] where channel.type == "phone" {
            if let conversation = try await store.conversation(accountId: entry.account.id, phone: channel.address) {
                found.append(conversation)
            }
        }
        return found
    }
}
