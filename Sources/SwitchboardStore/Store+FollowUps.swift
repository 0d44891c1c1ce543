import Foundation
import SwitchboardDomain
import SwitchboardBase

/// Helpdesk follow-ups (see ``HelpdeskFollowUp``): scheduled with a consent change, claimed by one worker at a time
/// under a lease, finished or postponed.
extension Store {
    private static let followUpColumns =
        "account_id, followup_key, ticket_id, phone, note, close_ticket, created_at, due_at, attempts, last_error, completed_at, outcome"

    /// Schedules `followUp` unless one with its key exists.
    public func scheduleFollowUp(_ followUp: HelpdeskFollowUp) async throws {
        try await Self.scheduleFollowUp(followUp, in: database)
    }

    /// Schedules `followUp` within a transaction; without a ticket it takes the active ticket of its phone's
    /// conversation, read here under the phone's consent lock (which ``attachTicket`` takes too, so a ticket opened
    /// concurrently is either seen here or attaches this follow-up).
    static func scheduleFollowUp(_ followUp: HelpdeskFollowUp, in executor: any SQLExecutor) async throws {
        try StoreLimits.identifier(followUp.key, "follow-up key")
        var ticketId = followUp.ticketId
        if ticketId == nil, let phone = followUp.phone {
            try await lockConsent(accountId: followUp.accountId, phone: phone, in: executor)
            ticketId = try await activeTicketId(accountId: followUp.accountId, phone: phone, in: executor)
        }
        try await executor.query(
            """
            INSERT INTO helpdesk_followups (account_id, followup_key, ticket_id, phone, note, close_ticket, created_at, due_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, followup_key) DO NOTHING
            """,
            followUp.accountId, followUp.key, ticketId, followUp.phone, followUp.note, followUp.closeTicket,
            followUp.createdAt.millis, followUp.dueAt.millis
        )
    }

    /// Gives the phone's waiting follow-ups that came after the text at `textAt` to `ticketId`, which that text opened
    /// or reopened (a new ticket is attached by ``attachTicket(conversationId:accountId:ticketId:openedAt:forText:)``).
    public func attachWaitingFollowUps(accountId: String, phone: String, ticketId: Int64, textAt: Date) async throws {
        try await database.transaction { executor in
            try await Store.attachWaitingFollowUps(
                accountId: accountId, phone: phone, ticketId: ticketId, textAt: textAt, in: executor)
        }
    }

    /// A follow-up that waits for a ticket belongs to the conversation it was about: a keyword that arrived with no
    /// ticket active. A text sent before it (which the keyword overtook on its own topic) opens that conversation's
    /// ticket, so the follow-up is given to it, due now. A text sent after it starts a later conversation: the
    /// follow-up is ended (`noTicket`), never given to it, so a STOP from weeks ago cannot close today's question.
    static func attachWaitingFollowUps(
        accountId: String, phone: String, ticketId: Int64, textAt: Date, in executor: any SQLExecutor
    ) async throws {
        try await lockConsent(accountId: accountId, phone: phone, in: executor)
        let now = Date().millis
        try await executor.query(
            "UPDATE helpdesk_followups SET ticket_id = ?, due_at = ? WHERE account_id = ? AND phone = ? AND ticket_id IS NULL AND completed_at IS NULL AND created_at >= ?",
            ticketId, now, accountId, phone, textAt.millis
        )
        try await executor.query(
            "UPDATE helpdesk_followups SET completed_at = ?, outcome = ?, last_error = ? WHERE account_id = ? AND phone = ? AND ticket_id IS NULL AND completed_at IS NULL AND created_at < ?",
            now, HelpdeskFollowUp.Outcome.noTicket.rawValue,
            "no ticket was open when it was asked for; a later conversation does not get it", accountId, phone,
            textAt.millis
        )
    }

    /// Claims up to `limit` due follow-ups for `lease` (another worker takes them only once the lease ran out), oldest
    /// due first, counting an attempt on each. A ticket's follow-ups run one after the other in the order they were
    /// scheduled (an opt-out's note before the re-subscription's): one waits while an earlier one is unfinished.
    public func claimFollowUps(now: Date = Date(), lease: Duration, limit: Int) async throws -> [HelpdeskFollowUp] {
        let leaseUntil = now.addingTimeInterval(lease.seconds).millis
        // The lease condition is repeated outside the subquery: under PostgreSQL's READ COMMITTED a concurrent claim
        // of the same row makes this UPDATE re-check it on the row's new version and skip it.
        return try await database.query(
            """
            UPDATE helpdesk_followups SET lease_until = ?, attempts = attempts + 1
            WHERE (account_id, followup_key) IN (
                SELECT account_id, followup_key FROM helpdesk_followups f
                WHERE completed_at IS NULL AND ticket_id IS NOT NULL AND due_at <= ? AND lease_until <= ? AND NOT EXISTS (
                    SELECT 1 FROM helpdesk_followups e
                    WHERE e.account_id = f.account_id AND e.ticket_id = f.ticket_id AND e.completed_at IS NULL
                        AND (e.created_at < f.created_at OR (e.created_at = f.created_at AND e.followup_key < f.followup_key))
                ) ORDER BY due_at LIMIT ?
            ) AND completed_at IS NULL AND lease_until <= ?
            RETURNING \(Self.followUpColumns)
            """,
            leaseUntil, now.millis, now.millis, limit, now.millis
        ).map(Self.followUp).sorted { $0.dueAt < $1.dueAt }
    }

    /// Ends a follow-up with its outcome.
    public func finishFollowUp(
        accountId: String, key: String, outcome: HelpdeskFollowUp.Outcome, error: String? = nil, at: Date = Date()
    ) async throws {
        try await database.query(
            "UPDATE helpdesk_followups SET completed_at = ?, outcome = ?, last_error = COALESCE(?, last_error), lease_until = 0 WHERE account_id = ? AND followup_key = ?",
            at.millis, outcome.rawValue, error, accountId, key
        )
    }

    /// Tries a follow-up again at `until`, remembering why it could not be done now.
    public func postponeFollowUp(accountId: String, key: String, until: Date, error: String) async throws {
        try await database.query(
            "UPDATE helpdesk_followups SET due_at = ?, last_error = ?, lease_until = 0 WHERE account_id = ? AND followup_key = ? AND completed_at IS NULL",
            until.millis, error, accountId, key
        )
    }

    /// One follow-up by key.
    public func followUp(accountId: String, key: String) async throws -> HelpdeskFollowUp? {
        try await database.query(
            "SELECT \(Self.followUpColumns) FROM helpdesk_followups WHERE account_id = ? AND followup_key = ?",
            accountId, key
        ).first.map(Self.followUp)
    }

    /// The follow-ups of an account, oldest first (all of them, or only those not finished).
    public func followUps(accountId: String, pendingOnly: Bool = false) async throws -> [HelpdeskFollowUp] {
        try await database.query(
            "SELECT \(Self.followUpColumns) FROM helpdesk_followups WHERE account_id = ?\(pendingOnly ? " AND completed_at IS NULL" : "") ORDER BY created_at",
            accountId
        ).map(Self.followUp)
    }

    /// Follow-ups waiting for Gorgias (not finished, with a ticket), over all accounts, and when the oldest of them was
    /// created.
    public func pendingFollowUps() async throws -> (count: Int, oldest: Date?) {
        let row = try await database.query(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM helpdesk_followups WHERE completed_at IS NULL AND ticket_id IS NOT NULL",
            []
        ).first
        return (Int(row?["n"].int ?? 0), row?["oldest"].int.map(Date.init(millis:)))
    }

    private static func followUp(_ row: SQLRow) -> HelpdeskFollowUp {
        var followUp = HelpdeskFollowUp(
            accountId: row["account_id"].text ?? "", key: row["followup_key"].text ?? "",
            ticketId: row["ticket_id"].int,
            phone: row["phone"].text, note: row["note"].text ?? "", closeTicket: (row["close_ticket"].int ?? 0) != 0,
            createdAt: Date(millis: row["created_at"].int ?? 0)
        )
        followUp.dueAt = Date(millis: row["due_at"].int ?? 0)
        followUp.attempts = Int(row["attempts"].int ?? 0)
        followUp.lastError = row["last_error"].text
        followUp.completedAt = row["completed_at"].int.map(Date.init(millis:))
        followUp.outcome = row["outcome"].text.flatMap(HelpdeskFollowUp.Outcome.init(rawValue:))
        return followUp
    }
}
