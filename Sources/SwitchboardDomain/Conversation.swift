import Foundation

/// One customer's SMS thread with one account: the Gorgias customer and the ticket texts currently go to.
public struct Conversation: Sendable, Hashable {
    public var id: String
    public var accountId: String
    public var phone: String
    public var customerId: Int64?
    public var currentTicketId: Int64?
    /// How many tickets this conversation has opened (numbers ticket external ids `conv:<id>:<n>`).
    public var ticketCount: Int
    public var lastActivityAt: Date
    public var createdAt: Date

    public init(
        id: String, accountId: String, phone: String, customerId: Int64? = nil, currentTicketId: Int64? = nil,
        ticketCount: Int, lastActivityAt: Date, createdAt: Date
    ) {
        self.id = id
        self.accountId = accountId
        self.phone = phone
        self.customerId = customerId
        self.currentTicketId = currentTicketId
        self.ticketCount = ticketCount
        self.lastActivityAt = lastActivityAt
        self.createdAt = createdAt
    }
}

/// A conversation as a customer's text opens it: the conversation and its current ticket as mirrored (nil when it
/// has none, or the ticket's row is gone).
public struct OpenedConversation: Sendable, Hashable {
    public var conversation: Conversation
    public var currentTicket: TicketRecord?

    public init(conversation: Conversation, currentTicket: TicketRecord? = nil) {
        self.conversation = conversation
        self.currentTicket = currentTicket
    }
}

/// A Gorgias ticket owned by a Switchboard conversation, with its mirrored status.
public struct TicketRecord: Sendable, Hashable {
    public var accountId: String
    public var ticketId: Int64
    public var conversationId: String
    public var status: TicketStatus
    /// Set while snoozed (Gorgias reports snoozed tickets as closed).
    public var snoozedUntil: Date?
    /// Gorgias' `updated_datetime` of the status applied last; older updates are ignored.
    public var statusAt: Date
    public var openedAt: Date
    public var closedAt: Date?

    public var isSnoozed: Bool { snoozedUntil.map { $0 > Date() } ?? false }

    /// Still the conversation's: open, or snoozed (Gorgias counts a snoozed ticket closed until its snooze ends, then
    /// reopens it by itself, so a snoozed ticket never stops being the conversation's).
    public var isActive: Bool { status == .open || snoozedUntil != nil }

    public init(
        accountId: String, ticketId: Int64, conversationId: String, status: TicketStatus, snoozedUntil: Date? = nil,
        statusAt: Date, openedAt: Date, closedAt: Date? = nil
    ) {
        self.accountId = accountId
        self.ticketId = ticketId
        self.conversationId = conversationId
        self.status = status
        self.snoozedUntil = snoozedUntil
        self.statusAt = statusAt
        self.openedAt = openedAt
        self.closedAt = closedAt
    }
}

/// A ticket status update from Gorgias.
public struct TicketStatusChange: Sendable, Hashable {
    public var accountId: String
    public var ticketId: Int64
    public var status: TicketStatus
    public var snoozedUntil: Date?
    public var updatedAt: Date

    public init(accountId: String, ticketId: Int64, status: TicketStatus, snoozedUntil: Date?, updatedAt: Date) {
        self.accountId = accountId
        self.ticketId = ticketId
        self.status = status
        self.snoozedUntil = snoozedUntil
        self.updatedAt = updatedAt
    }
}

public enum TicketStatusResult: Sendable, Hashable {
    case applied(previous: TicketRecord)
    /// An update at least as new is already mirrored.
    case stale(current: TicketRecord)
    /// No Switchboard conversation owns this ticket.
    case unknownTicket
}

/// Figures for `switchboard conversations stats` and the matching metrics.
public struct ConversationStats: Sendable, Hashable, Codable {
    public var ticketsByStatus: [String: Int]
    public var conversations: Int
    public var medianTimeToCloseSeconds: Double?
    /// Opt-outs per UTC day (`YYYY-MM-DD` → count), most recent last.
    public var optOutsPerDay: [String: Int]

    public init(
        ticketsByStatus: [String: Int], conversations: Int, medianTimeToCloseSeconds: Double? = nil,
        optOutsPerDay: [String: Int]
    ) {
        self.ticketsByStatus = ticketsByStatus
        self.conversations = conversations
        self.medianTimeToCloseSeconds = medianTimeToCloseSeconds
        self.optOutsPerDay = optOutsPerDay
    }
}
