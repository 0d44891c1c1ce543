import Foundation
import SwitchboardBase
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardGorgias
import SwitchboardJSON
import SwitchboardStore
import WorkerKit
import SwitchboardSMS

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
    let media: MediaImporter

    init(store: Store) {
        self.store = store
        self.customers = CustomerResolver(store: store)
        self.media = MediaImporter(store: store)
    }

    enum Target: Equatable {
        case thread(Int64)
        case reopen(Int64)
        case newTicket
    }

    /// What an import did: where the text went, in words (for the handler's log line), and whether the event's
    /// ledger entry was written with it.
    struct Imported {
        var target: String
        var recordedInLedger: Bool
    }

    /// Imports `text`; with `ledger`, the event's ledger entry is written in the transaction that marks the import
    /// done.
    ///
    /// Merges in Gorgias are followed: Gorgias answers 301 for a merged ticket or customer (contracts/gorgias/
    /// operations.json, "merged") and the client makes the same call on the one that remains, so a text threads onto
    /// the surviving ticket and the conversation follows it. A customer refused otherwise is checked: merged (its
    /// read redirects) the text is retried with the survivor; gone, it is found again by phone. A current ticket
    /// that is gone (deleted, or merged before Gorgias redirected merges) gives way to the customer's open ticket,
    /// else to a new one.
    @discardableResult
    func importText(_ text: InboundText, entry: AccountDirectory.Entry, ledger: LedgerEntry? = nil) async throws
        -> Imported
    {
        let account = entry.account
        let opened = try await store.openConversation(accountId: account.id, phone: text.from, at: text.receivedAt)
        let conversation = opened.conversation
        // A first text needs several calls (find the customer, create it, create the ticket, one per media file;
        // CustomerResolver.reservedCalls): take them all at once, before the import is journaled, so a burst of new
        // conversations beyond the budget still finishes texts at the budget's rate instead of every text taking a
        // token and waiting for the next (see RateReservation); a text that gets no budget is deferred having started
        // nothing.
        let calls = CustomerResolver.reservedCalls(
            conversation, media: text.media.filter { entry.sms.isOwnMedia($0.url) }.count)
        return try await entry.gorgias.reserving(calls: calls) {
            let previous = try await store.beginEffect(accountId: account.id, key: "import:\(text.messageSid)")
            if previous?.state == .done { return Imported(target: "already imported", recordedInLedger: false) }
            let target = try await importText(
                text, opened: opened, retried: previous != nil, entry: entry, ledger: ledger)
            return Imported(target: target, recordedInLedger: ledger != nil)
        }
    }

    private func importText(
        _ text: InboundText, opened: OpenedConversation, retried: Bool, entry: AccountDirectory.Entry,
        ledger: LedgerEntry?
    ) async throws -> String {
        var conversation = opened.conversation
        let target = Self.target(for: opened.currentTicket, settings: entry.account.settings, now: Date())
        let customerId = try await customers.customerId(
            for: conversation, text: text, retried: retried, entry: entry)
        do {
            return try await deliver(
                text, conversation: conversation, target: target, customerId: customerId, retried: retried,
                entry: entry, ledger: ledger)
        } catch let error as GorgiasError where error.status == 400 || error.isGone {
            let survivor = try await Self.current { try await entry.gorgias.customer(id: customerId).id }
            if survivor == customerId { throw error }
            let current: Int64
            if let survivor {
                try await store.setConversationCustomer(conversationId: conversation.id, customerId: survivor)
                current = survivor
            } else {
                try await store.forgetConversationCustomer(conversationId: conversation.id)
                conversation.customerId = nil
                current = try await customers.customerId(for: conversation, text: text, retried: true, entry: entry)
            }
            conversation.customerId = current
            return try await deliver(
                text, conversation: conversation, target: target, customerId: current, retried: true, entry: entry,
                ledger: ledger)
                + " (its customer was merged)"
        }
    }

    private func deliver(
        _ text: InboundText, conversation: Conversation, target: Target, customerId: Int64, retried: Bool,
        entry: AccountDirectory.Entry, ledger: LedgerEntry?
    ) async throws -> String {
        let account = entry.account
        let effect = "import:\(text.messageSid)"
        let message = Self.message(text, customerId: customerId, media: try await media.importMedia(text, entry: entry))
        var target = target
        if target != .newTicket {
            let ticketId = Self.ticketId(target)
            if retried,
                let found = try await entry.gorgias.messages(ticketId: ticketId).first(where: {
                    $0.externalId == text.messageSid
                })
            {
                try await finish(effect, reference: found.id, conversation: conversation, ledger: ledger)
                return "found on ticket \(ticketId) after a retry"
            }
            do {
                if case .reopen = target {
                    let reopened = try await entry.gorgias.setTicketStatus(id: ticketId, .open)
                    if let change = reopened.statusChange(accountId: account.id) {
                        _ = try await store.applyTicketStatus(change)
                    }
                    try await store.attachWaitingFollowUps(
                        accountId: account.id, phone: text.from, ticketId: ticketId, textAt: text.receivedAt)
                }
                let created = try await entry.gorgias.createMessage(ticketId: ticketId, message)
                try await finish(effect, reference: created.id, conversation: conversation, ledger: ledger)
                if let landed = created.ticketId, landed != ticketId {
                    // Redirected to the ticket a merge kept; the client re-pointed the conversation there too.
                    try await store.followMergedTicket(accountId: account.id, from: ticketId, to: landed)
                    return "threaded onto ticket \(landed), which ticket \(ticketId) was merged into"
                }
                return target == .reopen(ticketId) ? "reopened ticket \(ticketId)" : "threaded onto ticket \(ticketId)"
            } catch let error as GorgiasError where error.isGone {
                guard try await Self.current({ try await entry.gorgias.ticket(id: ticketId).id }) == nil else {
                    throw error
                }
                if let surviving = try await entry.gorgias.tickets(customerId: customerId).first(where: {
                    $0.id != ticketId && $0.status == "open"
                }) {
                    // Merged into another ticket of the customer: the conversation follows it.
                    try await store.attachTicket(
                        conversationId: conversation.id, accountId: account.id, ticketId: surviving.id,
                        openedAt: surviving.createdDatetime.flatMap(GorgiasDate.parse) ?? text.receivedAt
                    )
                    let created = try await entry.gorgias.createMessage(ticketId: surviving.id, message)
                    try await finish(effect, reference: created.id, conversation: conversation, ledger: ledger)
                    return "threaded onto ticket \(surviving.id), which ticket \(ticketId) was merged into"
                }
                // Deleted: forget it and open a new one.
                _ = try await store.applyTicketStatus(
                    TicketStatusChange(
                        accountId: account.id, ticketId: ticketId, status: .closed, snoozedUntil: nil, updatedAt: Date()
                    ))
                target = .newTicket
            }
        }
        let number = conversation.ticketCount + 1
        let externalId = "conv:\(conversation.id):\(number)"
        let ticket: GorgiasTicket
        if retried, let found = try await entry.gorgias.ticket(externalId: externalId) {
            ticket = found
        } else {
            let name = text.customer.name
            ticket = try await entry.gorgias.createTicket(
                GorgiasNewTicket(
                    channel: "sms", via: "api", fromAgent: false, status: "open",
                    subject: "SMS from \(name.map { "\($0) (\(text.from))" } ?? text.from)", externalId: externalId,
                    customer: GorgiasPersonRef(id: customerId), tags: [["name": "sms"]], messages: [message]
                ))
        }
        // Stamped with Gorgias' own time, so its later status changes compare on one clock.
        let openedAt = ticket.createdDatetime.flatMap(GorgiasDate.parse) ?? text.receivedAt
        try await store.attachTicket(
            conversationId: conversation.id, accountId: account.id, ticketId: ticket.id, openedAt: openedAt,
            forText: text.receivedAt)
        try await noteEarlierOptOut(text, ticketId: ticket.id, account: account)
        try await finish(effect, reference: ticket.id, conversation: conversation, ledger: ledger)
        return "new ticket \(ticket.id)"
    }

    /// A customer who opted out earlier and writes in gets their question answered by an agent, but not by SMS: the
    /// new ticket carries a note saying so (it is not closed; the STOP's own follow-up belonged to the conversation it
    /// was about).
    private func noteEarlierOptOut(_ text: InboundText, ticketId: Int64, account: Account) async throws {
        guard let subscriber = try await store.subscriber(accountId: account.id, phone: text.from),
            subscriber.state == .unsubscribed
        else { return }
        try await store.scheduleFollowUp(
            HelpdeskFollowUp(
                accountId: account.id, key: "note:opted-out:\(ticketId)", ticketId: ticketId,
                note: ConsentNotes.optedOutEarlier(subscriber), closeTicket: false))
    }

    /// The id Gorgias has now for what `read` fetches: the same, the survivor of a merge (the read was redirected),
    /// or nil when it is gone. One call, made only after a refusal: a 404 on a message may be about its sender, a 400
    /// on a ticket about its customer.
    static func current(_ read: () async throws -> Int64) async throws -> Int64? {
        do {
            return try await read()
        } catch let error as GorgiasError where error.isGone {
            return nil
        }
    }

    private static func ticketId(_ target: Target) -> Int64 {
        switch target {
        case .thread(let id), .reopen(let id): id
        case .newTicket: 0
        }
    }

    private func finish(_ effect: String, reference: Int64, conversation: Conversation, ledger: LedgerEntry?)
        async throws
    {
        try await store.completeEffect(
            accountId: conversation.accountId, key: effect, reference: String(reference), recording: ledger)
    }

    /// Where a text goes, from the conversation's current ticket as the store mirrors it. The rule: the open or
    /// snoozed ticket (a snooze that has ended means Gorgias reopened it: the text threads onto it); for a closed one,
    /// a new ticket, or reopening it within the account's window when its policy says so.
    static func target(for ticket: TicketRecord?, settings: AccountSettings, now: Date) -> Target {
        guard let ticket else { return .newTicket }
        if ticket.isActive { return .thread(ticket.ticketId) }
        switch settings.closedTicketPolicy {
        case .new:
            return .newTicket
        case .reopen:
            let closedAt = ticket.closedAt ?? ticket.statusAt
            return now.timeIntervalSince(closedAt) <= Double(settings.reopenWindowHours) * 3600
                ? .reopen(ticket.ticketId) : .newTicket
        }
    }

    /// The Gorgias message for a text: from the customer, already sent; its media as the attachments they became
    /// (``MediaImporter``), or lines saying why not.
    static func message(_ text: InboundText, customerId: Int64, media: [MediaImporter.Imported]) -> GorgiasNewMessage {
        var body = text.body
        for line in media.compactMap(\.line) {
            body += (body.isEmpty ? "" : "\n") + line
        }
        let attachments = media.compactMap(\.attachment)
        return GorgiasNewMessage(
            channel: "sms", via: "api", fromAgent: false, sender: GorgiasPersonRef(id: customerId),
            source: GorgiasMessageSource(
                type: "sms", from: GorgiasAddress(address: text.from), to: [GorgiasAddress(address: text.to)]),
            bodyText: body, bodyHTML: "<p>\(HTMLText.escape(body))</p>", externalId: text.messageSid,
            sentDatetime: RFC3339.format(text.receivedAt, fractional: true),
            attachments: attachments.isEmpty ? nil : attachments
        )
    }

}
