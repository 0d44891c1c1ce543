import Foundation
import SwitchboardDomain
import SwitchboardJSON

/// Conversations (one per account and phone) and the tickets they own, with mirrored status and its history.
extension Store {
    private static let conversationColumns =
        "id, account_id, phone, customer_id, current_ticket_id, ticket_count, last_activity_at, created_at"
    private static let ticketColumns =
        "account_id, ticket_id, conversation_id, status, snoozed_until, status_at, opened_at, closed_at"

    public func conversation(accountId: String, phone: String) async throws -> Conversation? {
        try await database.query(
            "SELECT \(Self.conversationColumns) FROM conversations WHERE account_id = ? AND phone = ?", accountId, phone
        ).first.map(Self.conversation)
    }

    /// The conversation for `phone`, created if it does not exist yet, with the customer's activity at `at` recorded
    /// (the conversational consent window counts from it), and its current ticket as mirrored: one statement for a
    /// known conversation, the one a customer's text costs.
    public func openConversation(accountId: String, phone: String, at: Date = Date()) async throws
        -> OpenedConversation
    {
        let returning = "RETURNING \(Self.conversationColumns), \(Self.currentTicketColumns)"
        let touch = """
            UPDATE conversations SET last_activity_at = \(database.dialect.greatest("last_activity_at", "?"))
            WHERE account_id = ? AND phone = ? \(returning)
            """
        for _ in 0..<2 {
            if let row = try await database.query(touch, at.millis, accountId, phone).first {
                return Self.opened(row)
            }
            let created = try await database.query(
                """
                INSERT INTO conversations (id, account_id, phone, ticket_count, last_activity_at, created_at)
                VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (account_id, phone) DO NOTHING \(returning)
                """,
                UUID().uuidString.lowercased(), accountId, phone, at.millis, at.millis
            )
            if let row = created.first { return Self.opened(row) }
            // Another worker created it between the two statements: touch that one.
        }
        throw StoreError(.unavailable, "conversation was not created")
    }

    public func setConversationCustomer(conversationId: String, customerId: Int64) async throws {
        try await database.query("UPDATE conversations SET customer_id = ? WHERE id = ?", customerId, conversationId)
    }

    /// Forgets the conversation's Gorgias customer (Gorgias merged it away); the next text finds the customer again.
    public func forgetConversationCustomer(conversationId: String) async throws {
        try await database.query("UPDATE conversations SET customer_id = NULL WHERE id = ?", conversationId)
    }

    /// The conversations whose Gorgias customer is `customerId`, most recently active first.
    public func conversations(accountId: String, customerId: Int64) async throws -> [Conversation] {
        try await database.query(
            "SELECT \(Self.conversationColumns) FROM conversations WHERE account_id = ? AND customer_id = ? ORDER BY last_activity_at DESC",
            accountId, customerId
        ).map(Self.conversation)
    }

    /// Records a ticket opened (or found) for the conversation and makes it the current one. With `forText`, the time
    /// of the customer's text that opened it: the customer's follow-ups that wait for a ticket and came after that
    /// text (a STOP that overtook it) are given this one; those that came before it were about a conversation that had
    /// no ticket and are ended (``attachWaitingFollowUps(accountId:phone:ticketId:textAt:)``).
    @discardableResult
    public func attachTicket(
        conversationId: String, accountId: String, ticketId: Int64, openedAt: Date, forText textAt: Date? = nil
    ) async throws -> TicketRecord {
        try await database.transaction { executor in
            let inserted = try await executor.query(
                """
                INSERT INTO tickets (account_id, ticket_id, conversation_id, status, status_at, opened_at) VALUES (?, ?, ?, 'open', ?, ?)
                ON CONFLICT (account_id, ticket_id) DO NOTHING RETURNING ticket_id
                """,
                accountId, ticketId, conversationId, openedAt.millis, openedAt.millis
            )
            if !inserted.isEmpty {
                let phone = try await executor.query(
                    "UPDATE conversations SET current_ticket_id = ?, ticket_count = ticket_count + 1 WHERE id = ? RETURNING phone",
                    ticketId, conversationId
                ).first?["phone"].text
                try await Store.recordStatusHistory(
                    accountId: accountId, ticketId: ticketId, status: .open, snoozedUntil: nil, at: openedAt,
                    in: executor)
                if let phone, let textAt {
                    try await Store.attachWaitingFollowUps(
                        accountId: accountId, phone: phone, ticketId: ticketId, textAt: textAt, in: executor)
                }
            } else {
                try await executor.query(
                    "UPDATE conversations SET current_ticket_id = ? WHERE id = ?", ticketId, conversationId)
            }
            guard
                let ticket = try await executor.query(
                    "SELECT \(Store.ticketColumns) FROM tickets WHERE account_id = ? AND ticket_id = ?", accountId,
                    ticketId
                ).first.map({ row in Store.ticket(row) })
            else { throw StoreError(.unavailable, "ticket was not recorded") }
            return ticket
        }
    }

    /// Gorgias merged ticket `from` into `to` (a call on `from` was redirected there): the conversation that owned
    /// `from` makes `to` its current ticket.
    public func followMergedTicket(accountId: String, from: Int64, to: Int64, at: Date = Date()) async throws {
        guard let owner = try await conversation(accountId: accountId, ticketId: from), from != to else { return }
        try await attachTicket(conversationId: owner.id, accountId: accountId, ticketId: to, openedAt: at)
    }

    /// Gorgias merged customer `from` into `to`: conversations that knew `from` know `to`.
    public func followMergedCustomer(accountId: String, from: Int64, to: Int64) async throws {
        try await database.query(
            "UPDATE conversations SET customer_id = ? WHERE account_id = ? AND customer_id = ?", to, accountId, from)
    }

    /// The conversation's current ticket for `phone` when it is active (open, or snoozed: ``TicketRecord/isActive``).
    public func activeTicketId(accountId: String, phone: String) async throws -> Int64? {
        try await Self.activeTicketId(accountId: accountId, phone: phone, in: database)
    }

    /// The conversation's current ticket for `phone` when it is active (``TicketRecord/isActive``).
    static func activeTicketId(accountId: String, phone: String, in executor: any SQLExecutor) async throws -> Int64? {
        try await executor.query(
            """
            SELECT t.ticket_id FROM conversations c JOIN tickets t ON t.account_id = c.account_id AND t.ticket_id = c.current_ticket_id
            WHERE c.account_id = ? AND c.phone = ? AND (t.status = 'open' OR t.snoozed_until IS NOT NULL)
            """,
            accountId, phone
        ).first?["ticket_id"].int
    }

    public func ticket(accountId: String, ticketId: Int64) async throws -> TicketRecord? {
        try await database.query(
            "SELECT \(Self.ticketColumns) FROM tickets WHERE account_id = ? AND ticket_id = ?", accountId, ticketId
        ).first.map { Self.ticket($0) }
    }

    /// The conversation that owns `ticketId`, if any.
    public func conversation(accountId: String, ticketId: Int64) async throws -> Conversation? {
        try await database.query(
            """
            SELECT \(Self.conversationColumns.split(separator: ",").map { "c." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
            FROM tickets t JOIN conversations c ON c.id = t.conversation_id WHERE t.account_id = ? AND t.ticket_id = ?
            """,
            accountId, ticketId
        ).first.map(Self.conversation)
    }

    /// Mirrors a ticket status unless an update at least as new is already mirrored. With `entry`, the ledger entry
    /// is written in the same transaction; nil when another worker already recorded that event.
    public func applyTicketStatus(_ change: TicketStatusChange, recording entry: LedgerEntry? = nil) async throws
        -> TicketStatusResult?
    {
        try await database.transaction { executor in
            if let entry, !(try await Store.record(entry, in: executor)) { return nil }
            guard
                let current = try await executor.query(
                    "SELECT \(Store.ticketColumns) FROM tickets WHERE account_id = ? AND ticket_id = ?\(executor.dialect.forUpdate)",
                    change.accountId, change.ticketId
                ).first.map({ row in Store.ticket(row) })
            else { return .unknownTicket }
            guard change.updatedAt > current.statusAt else { return .stale(current: current) }
            let closedAt: SQLValue =
                change.status == .closed ? .integer(current.closedAt?.millis ?? change.updatedAt.millis) : .null
            try await executor.query(
                "UPDATE tickets SET status = ?, snoozed_until = ?, status_at = ?, closed_at = ? WHERE account_id = ? AND ticket_id = ?",
                change.status.rawValue, change.snoozedUntil?.millis, change.updatedAt.millis, closedAt,
                change.accountId, change.ticketId
            )
            try await Store.recordStatusHistory(
                accountId: change.accountId, ticketId: change.ticketId, status: change.status,
                snoozedUntil: change.snoozedUntil,
                at: change.updatedAt, in: executor
            )
            return .applied(previous: current)
        }
    }

    /// The status history of a ticket, oldest first.
    public func ticketHistory(accountId: String, ticketId: Int64) async throws -> [(
        status: TicketStatus, snoozedUntil: Date?, at: Date
    )] {
        try await database.query(
            "SELECT status, snoozed_until, status_at FROM ticket_status_history WHERE account_id = ? AND ticket_id = ? ORDER BY status_at, id",
            accountId, ticketId
        ).map { row in
            (
                TicketStatus(rawValue: row["status"].text ?? "") ?? .open,
                row["snoozed_until"].int.map(Date.init(millis:)), Date(millis: row["status_at"].int ?? 0)
            )
        }
    }

    private static func recordStatusHistory(
        accountId: String, ticketId: Int64, status: TicketStatus, snoozedUntil: Date?, at: Date,
        in executor: any SQLExecutor
    ) async throws {
        try await executor.query(
            "INSERT INTO ticket_status_history (account_id, ticket_id, status, snoozed_until, status_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
            accountId, ticketId, status.rawValue, snoozedUntil?.millis, at.millis, Date().millis
        )
    }

    /// Counts by status (snoozed counted apart), median time from open to close, and opt-outs per UTC day.
    public func conversationStats(accountId: String? = nil, days: Int = 14) async throws -> ConversationStats {
        let filter = accountId == nil ? "" : " WHERE account_id = ?"
        let binds: [SQLValue] = accountId.map { [.text($0)] } ?? []
        var byStatus: [String: Int] = ["open": 0, "closed": 0, "snoozed": 0]
        let now = Date().millis
        for row in try await database.query(
            "SELECT status, snoozed_until, opened_at, closed_at FROM tickets\(filter)", binds)
        {
            let snoozed = (row["snoozed_until"].int ?? 0) > now
            byStatus[snoozed ? "snoozed" : (row["status"].text ?? "open"), default: 0] += 1
        }
        let durations = try await database.query(
            "SELECT closed_at - opened_at AS seconds FROM tickets WHERE closed_at IS NOT NULL\(accountId == nil ? "" : " AND account_id = ?")",
            binds
        ).compactMap { $0["seconds"].int }.map { Double($0) / 1000 }.sorted()
        let median: Double? =
            durations.isEmpty
            ? nil
            : durations.count % 2 == 1
                ? durations[durations.count / 2]
                : (durations[durations.count / 2 - 1] + durations[durations.count / 2]) / 2
        let since = now - Int64(days) * 86_400_000
        var optOuts: [String: Int] = [:]
        for row in try await database.query(
            "SELECT at FROM consent_history WHERE state = 'unsubscribed' AND at >= ?\(accountId == nil ? "" : " AND account_id = ?")",
            [.integer(since)] + binds
        ) {
            optOuts[String(RFC3339.format(Date(millis: row["at"].int ?? 0)).prefix(10)), default: 0] += 1
        }
        let conversations =
            try await database.query("SELECT COUNT(*) AS n FROM conversations\(filter)", binds).first?["n"].int ?? 0
        return ConversationStats(
            ticketsByStatus: byStatus, conversations: Int(conversations), medianTimeToCloseSeconds: median,
            optOutsPerDay: optOuts
        )
    }

    /// Opt-outs recorded since `since` (all accounts, or one).
    public func optOuts(since: Date, accountId: String? = nil) async throws -> Int {
        let rows = try await database.query(
            "SELECT COUNT(*) AS n FROM consent_history WHERE state = 'unsubscribed' AND at >= ?\(accountId == nil ? "" : " AND account_id = ?")",
            [.integer(since.millis)] + (accountId.map { [.text($0)] } ?? [])
        )
        return Int(rows.first?["n"].int ?? 0)
    }

    private static func conversation(_ row: SQLRow) -> Conversation {
        Conversation(
            id: row["id"].text ?? "", accountId: row["account_id"].text ?? "", phone: row["phone"].text ?? "",
            customerId: row["customer_id"].int, currentTicketId: row["current_ticket_id"].int,
            ticketCount: Int(row["ticket_count"].int ?? 0),
            lastActivityAt: Date(millis: row["last_activity_at"].int ?? 0),
            createdAt: Date(millis: row["created_at"].int ?? 0)
        )
    }

    /// The current ticket's columns as correlated subqueries (`ticket_<column>`), for a statement on `conversations`.
    private static let currentTicketColumns = ticketColumns.split(separator: ",").map { column in
        let column = column.trimmingCharacters(in: .whitespaces)
        return "(SELECT \(column) FROM tickets WHERE tickets.account_id = conversations.account_id"
            + " AND tickets.ticket_id = conversations.current_ticket_id) AS ticket_\(column)"
    }
    .joined(separator: ", ")

    private static func opened(_ row: SQLRow) -> OpenedConversation {
        OpenedConversation(
            conversation: conversation(row),
            currentTicket: row["ticket_ticket_id"].int == nil ? nil : ticket(row, prefix: "ticket_"))
    }

    /// A ticket from its columns, each named `<prefix><column>`.
    private static func ticket(_ row: SQLRow, prefix: String = "") -> TicketRecord {
        func column(_ name: String) -> SQLValue { row[prefix + name] }
        return TicketRecord(
            accountId: column("account_id").text ?? "", ticketId: column("ticket_id").int ?? 0,
            conversationId: column("conversation_id").text ?? "",
            status: TicketStatus(rawValue: column("status").text ?? "") ?? .open,
            snoozedUntil: column("snoozed_until").int.map(Date.init(millis:)),
            statusAt: Date(millis: column("status_at").int ?? 0),
            openedAt: Date(millis: column("opened_at").int ?? 0),
            closedAt: column("closed_at").int.map(Date.init(millis:))
        )
    }
}
