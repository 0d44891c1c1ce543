import Foundation

/// The helpdesk side of a consent change: an internal note on the conversation's ticket and, by the account's STOP
/// setting, closing it.
///
/// Why a follow-up and not part of the event's handling: the consent change and its confirmation SMS must never wait
/// for Gorgias (a STOP is a legal obligation; Gorgias may be down, throttled or refusing the key for hours). So the
/// follow-up is written in the same transaction as the consent change — it cannot be lost or run without it — and a
/// ``HelpdeskFollowUps`` service in the Inbound and Outbound workers performs it on its own schedule, retrying for as
/// long as Gorgias needs, outside the Kafka retry tiers and the DLQ, while the event itself is already finished.
public struct HelpdeskFollowUp: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        /// The note was posted (and the ticket closed where asked).
        case done
        /// Gorgias refused it for good (the ticket was deleted, say) or it was given up on; `lastError` says why.
        case failed
        /// It waited for a ticket the conversation it was about never opened (a STOP with no ticket open, then no
        /// earlier text opening one); a later conversation's ticket does not get it.
        case noTicket
    }

    public var accountId: String
    /// Unique per account, and the note's `external_id` (`note:<event id>:opt-out`), so it is posted once.
    public var key: String
    /// The ticket to note on. Nil while the customer has no active ticket: a STOP can overtake the customer's own
    /// earlier text (it travels on its own topic), so the follow-up waits for the ticket that text opens and is
    /// attached to it then; a text sent after it never gets it
    /// (``Store/attachTicket(conversationId:accountId:ticketId:openedAt:forText:)``).
    public var ticketId: Int64?
    /// The customer, for a follow-up that waits for a ticket.
    public var phone: String?
    public var note: String
    public var closeTicket: Bool
    /// When what it is about happened (the customer's keyword, the agent's reply): a follow-up waiting for a ticket is
    /// given only to one a text sent before this opens.
    public var createdAt: Date
    public var dueAt: Date
    public var attempts: Int
    public var lastError: String?
    public var completedAt: Date?
    public var outcome: Outcome?

    /// A follow-up for `ticketId`, or (nil) for the active ticket of `phone`'s conversation, looked up when it is
    /// scheduled, or the one the customer's next ticket becomes.
    public init(
        accountId: String, key: String, ticketId: Int64?, phone: String? = nil, note: String, closeTicket: Bool,
        createdAt: Date = Date()
    ) {
        self.accountId = accountId
        self.key = key
        self.ticketId = ticketId
        self.phone = phone
        self.note = note
        self.closeTicket = closeTicket
        self.createdAt = createdAt
        self.dueAt = createdAt
        self.attempts = 0
    }
}
