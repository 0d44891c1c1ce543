import Foundation
import Shared

/// STOP, START and HELP texted by a customer (architecture §5, external-apis.md §3.6, §5). The text itself never
/// becomes a ticket message; an internal note tells the agent what happened.
///
/// Every step is idempotent on its own (consent by event time, notes and SMS journaled per event), so a redelivered
/// or retried event completes what is missing and repeats nothing.
struct ConsentKeywordHandler: Sendable {
    let store: Store
    let notes: NotePoster
    let sms: OneOffSMS

    init(store: Store) {
        self.store = store
        self.notes = NotePoster(store: store)
        self.sms = OneOffSMS(store: store)
    }

    func handle(_ keyword: ConsentKeyword, text: InboundText, eventId: String, entry: AccountDirectory.Entry) async throws {
        switch keyword {
        case .optOut: try await optOut(text, eventId: eventId, entry: entry)
        case .optIn: try await optIn(text, eventId: eventId, entry: entry)
        case .help: _ = try await sms.send(entry, key: "sms:\(eventId):help", to: text.from, body: entry.account.settings.effectiveHelpText)
        }
    }

    /// Unsubscribes at once, notes and (by setting) closes the open ticket, and sends one confirmation unless the
    /// provider sends its own.
    private func optOut(_ text: InboundText, eventId: String, entry: AccountDirectory.Entry) async throws {
        let account = entry.account
        let word = text.body.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await store.applyConsent(ConsentChange(
            accountId: account.id, phone: text.from, state: .unsubscribed, at: text.receivedAt,
            source: "keyword:\(word.uppercased())", name: text.customer.name, email: text.customer.email
        ))
        if let ticket = try await openTicket(account: account, phone: text.from) {
            let closes = account.settings.stopClosesTicket
            try await notes.post(
                entry, ticketId: ticket.ticketId, key: "note:\(eventId):opt-out",
                text: ConsentNotes.optedOutByText(word: word, at: text.receivedAt, ticketClosed: closes)
            )
            if closes {
                try await entry.gorgias.setTicketStatus(id: ticket.ticketId, .closed)
                _ = try await store.applyTicketStatus(TicketStatusChange(
                    accountId: account.id, ticketId: ticket.ticketId, status: .closed, snoozedUntil: nil, updatedAt: Date()
                ))
            }
        }
        if !account.settings.providerSendsConsentReplies {
            _ = try await sms.send(entry, key: "sms:\(eventId):opt-out", to: text.from, body: ConsentNotes.optOutConfirmation(brand: account.settings.brand))
        }
    }

    /// Resubscribes; confirms only when the customer was not already subscribed (an extra "YES" is not re-confirmed).
    private func optIn(_ text: InboundText, eventId: String, entry: AccountDirectory.Entry) async throws {
        let account = entry.account
        let word = text.body.trimmingCharacters(in: .whitespacesAndNewlines)
        let previous = try await store.subscriber(accountId: account.id, phone: text.from)?.state
        _ = try await store.applyConsent(ConsentChange(
            accountId: account.id, phone: text.from, state: .subscribed, at: text.receivedAt,
            source: "keyword:\(word.uppercased())", name: text.customer.name, email: text.customer.email
        ))
        if let ticket = try await openTicket(account: account, phone: text.from) {
            try await notes.post(
                entry, ticketId: ticket.ticketId, key: "note:\(eventId):opt-in",
                text: ConsentNotes.optedInByText(word: word, at: text.receivedAt)
            )
        }
        if previous != .subscribed && !account.settings.providerSendsConsentReplies {
            _ = try await sms.send(entry, key: "sms:\(eventId):opt-in", to: text.from, body: ConsentNotes.optInConfirmation(brand: account.settings.brand))
        }
    }

    /// The conversation's current ticket, when it is open (snoozed counts: the agent is still on it).
    private func openTicket(account: Account, phone: String) async throws -> TicketRecord? {
        guard let ticketId = try await store.conversation(accountId: account.id, phone: phone)?.currentTicketId,
            let ticket = try await store.ticket(accountId: account.id, ticketId: ticketId),
            ticket.status == .open || ticket.isSnoozed
        else { return nil }
        return ticket
    }
}

/// What agents read in notes and customers read in confirmations (CTIA templates, external-apis.md §5).
enum ConsentNotes {
    static func optedOutByText(word: String, at: Date, ticketClosed: Bool) -> String {
        "The customer opted out of SMS by texting \"\(word)\" at \(readable(at)). They will not receive SMS from this number unless they text START."
            + (ticketClosed ? " Switchboard closed this ticket." : "")
    }

    static func optedInByText(word: String, at: Date) -> String {
        "The customer re-subscribed to SMS by texting \"\(word)\" at \(readable(at))."
    }

    static func optOutConfirmation(brand: String) -> String {
        "\(brand): You are unsubscribed and will receive no further messages. Reply START to resubscribe."
    }

    static func optInConfirmation(brand: String) -> String {
        "\(brand): You are subscribed to messages again. Msg&data rates may apply. Reply HELP for help, STOP to unsubscribe."
    }

    static func readable(_ date: Date) -> String {
        RFC3339.format(date).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }
}
