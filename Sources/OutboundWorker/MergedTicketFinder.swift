import Foundation
import Shared

/// Finds the Switchboard conversation of a ticket Switchboard does not know yet: the one an agent merged a
/// conversation's ticket into, or a ticket of a customer Gorgias merged with a conversation's customer. The
/// conversation is re-pointed to the ticket, so a reply there is sent instead of being ignored.
///
/// Only tried for replies that may be SMS (the event's channel hint is `sms`, `api` or absent); it costs one or two
/// Gorgias reads, and only for tickets Switchboard does not own.
struct MergedTicketFinder: Sendable {
    let store: Store

    func conversation(for reply: HelpdeskMessage, entry: AccountDirectory.Entry) async throws -> Conversation? {
        guard reply.channel.map(ReplyClassifier.smsChannels.contains) ?? true else { return nil }
        let ticket: GorgiasTicket
        do {
            ticket = try await entry.gorgias.ticket(id: reply.ticketId)
        } catch let error as GorgiasError where error.isGone {
            return nil
        }
        guard let customerId = ticket.customer?.id else { return nil }
        var conversation = try await store.conversations(accountId: entry.account.id, customerId: customerId).first
        if conversation == nil {
            // A customer merge: the surviving customer carries the conversation's phone channel.
            let customer = try await entry.gorgias.customer(id: customerId)
            for channel in customer.channels ?? [] where channel.type == "phone" {
                if let found = try await store.conversation(accountId: entry.account.id, phone: channel.address) {
                    conversation = found
                    break
                }
            }
        }
        guard let conversation else { return nil }
        try await store.setConversationCustomer(conversationId: conversation.id, customerId: customerId)
        try await store.attachTicket(
            conversationId: conversation.id, accountId: entry.account.id, ticketId: ticket.id,
            openedAt: ticket.createdDatetime.flatMap(GorgiasDate.parse) ?? Date()
        )
        return try await store.conversation(accountId: entry.account.id, ticketId: ticket.id)
    }
}
