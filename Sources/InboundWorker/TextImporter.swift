import Foundation
import Shared

/// Imports a customer's text into Gorgias as a message from the customer (already sent, `external_id` = the
/// provider message id): threaded onto the conversation's open ticket, or as the first message of a new ticket,
/// or reopening a recently closed one, by the account's policy.
///
/// Exactly once: the import is journaled before the Gorgias call; after a crash the retry looks for the message
/// (or the ticket, by its `conv:<conversation>:<n>` external id) before creating it. A threaded text on a known
/// conversation costs one Gorgias call: the customer and ticket are remembered in the store.
struct TextImporter: Sendable {
    let store: Store
    let customers: CustomerResolver

    init(store: Store) {
        self.store = store
        self.customers = CustomerResolver(store: store)
    }

    enum Target: Equatable {
        case thread(Int64)
        case reopen(Int64)
        case newTicket
    }

    /// Imports `text`; returns where it went, in words (for the handler's log line).
    @discardableResult
    func importText(_ text: InboundText, entry: AccountDirectory.Entry) async throws -> String {
        let account = entry.account
        let conversation = try await store.openConversation(accountId: account.id, phone: text.from, at: text.receivedAt)
        let effect = "import:\(text.messageSid)"
        let previous = try await store.beginEffect(accountId: account.id, key: effect)
        if previous?.state == .done { return "already imported" }
        let customerId = try await customers.customerId(for: conversation, text: text, entry: entry)
        let message = Self.message(text, customerId: customerId)
        var target = try await chooseTarget(conversation, account: account)
        if target != .newTicket {
            let ticketId = Self.ticketId(target)
            if previous != nil, let found = try await entry.gorgias.messages(ticketId: ticketId).first(where: { $0.externalId == text.messageSid }) {
                try await finish(effect, reference: found.id, conversation: conversation, at: text.receivedAt)
                return "found on ticket \(ticketId) after a retry"
            }
            do {
                if case .reopen = target {
                    let reopened = try await entry.gorgias.setTicketStatus(id: ticketId, .open)
                    if let change = reopened.statusChange(accountId: account.id) { _ = try await store.applyTicketStatus(change) }
                    try await store.attachWaitingFollowUps(accountId: account.id, phone: text.from, ticketId: ticketId)
                }
                let created = try await entry.gorgias.createMessage(ticketId: ticketId, message)
                try await finish(effect, reference: created.id, conversation: conversation, at: text.receivedAt)
                return target == .reopen(ticketId) ? "reopened ticket \(ticketId)" : "threaded onto ticket \(ticketId)"
            } catch let error as GorgiasError where error.isNotFound {
                // The ticket was deleted in Gorgias: forget it and open a new one.
                _ = try await store.applyTicketStatus(TicketStatusChange(accountId: account.id, ticketId: ticketId, status: .closed, snoozedUntil: nil, updatedAt: Date()))
                target = .newTicket
            }
        }
        let number = conversation.ticketCount + 1
        let externalId = "conv:\(conversation.id):\(number)"
        let ticket: GorgiasTicket
        if previous != nil, let found = try await entry.gorgias.ticket(externalId: externalId) {
            ticket = found
        } else {
            let name = text.customer.name
            ticket = try await entry.gorgias.createTicket(GorgiasNewTicket(
                channel: "sms", via: "api", fromAgent: false, status: "open",
                subject: "SMS from \(name.map { "\($0) (\(text.from))" } ?? text.from)", externalId: externalId,
                customer: GorgiasPersonRef(id: customerId), tags: [["name": "sms"]], messages: [message]
            ))
        }
        try await store.attachTicket(conversationId: conversation.id, accountId: account.id, ticketId: ticket.id, openedAt: text.receivedAt)
        try await finish(effect, reference: ticket.id, conversation: conversation, at: text.receivedAt)
        return "new ticket \(ticket.id)"
    }

    private static func ticketId(_ target: Target) -> Int64 {
        switch target {
        case .thread(let id), .reopen(let id): id
        case .newTicket: 0
        }
    }

    private func finish(_ effect: String, reference: Int64, conversation: Conversation, at: Date) async throws {
        try await store.completeEffect(accountId: conversation.accountId, key: effect, reference: String(reference))
        try await store.touchConversation(conversationId: conversation.id, at: at)
    }

    /// Where this text goes: the open (or snoozed) ticket; for a closed one, a new ticket, or reopening it within the
    /// account's window when its policy says so.
    func chooseTarget(_ conversation: Conversation, account: Account) async throws -> Target {
        guard let ticketId = conversation.currentTicketId, let ticket = try await store.ticket(accountId: account.id, ticketId: ticketId) else {
            return .newTicket
        }
        if ticket.status == .open || ticket.isSnoozed { return .thread(ticketId) }
        switch account.settings.closedTicketPolicy {
        case .new:
            return .newTicket
        case .reopen:
            let closedAt = ticket.closedAt ?? ticket.statusAt
            return Date().timeIntervalSince(closedAt) <= Double(account.settings.reopenWindowHours) * 3600 ? .reopen(ticketId) : .newTicket
        }
    }

    /// The Gorgias message for a text: from the customer, already sent; images as attachments, other media listed.
    static func message(_ text: InboundText, customerId: Int64) -> GorgiasNewMessage {
        let images = text.media.filter { Self.imageTypes.contains($0.contentType.lowercased()) }
        let others = text.media.filter { !Self.imageTypes.contains($0.contentType.lowercased()) }
        var body = text.body
        for item in others {
            body += (body.isEmpty ? "" : "\n") + "[Attachment \(item.contentType): \(item.url)]"
        }
        let attachments = images.enumerated().map { index, item in
            GorgiasAttachment(url: item.url, name: "image-\(index + 1).\(item.contentType.split(separator: "/").last ?? "jpg")", contentType: item.contentType)
        }
        return GorgiasNewMessage(
            channel: "sms", via: "api", fromAgent: false, sender: GorgiasPersonRef(id: customerId),
            source: GorgiasMessageSource(type: "sms", from: GorgiasAddress(address: text.from), to: [GorgiasAddress(address: text.to)]),
            bodyText: body, bodyHTML: "<p>\(HTMLText.escape(body))</p>", externalId: text.messageSid,
            sentDatetime: RFC3339.format(text.receivedAt, fractional: true), attachments: attachments.isEmpty ? nil : attachments
        )
    }

    static let imageTypes: Set<String> = ["image/png", "image/jpeg", "image/jpg", "image/gif"]
}
