import Foundation
import SwitchboardDomain
import SwitchboardBase

/// Outbound SMS records: one per agent reply, moving only forward through ``OutboundState``.
extension Store {
    static let outboundColumns = """
        id, account_id, ticket_id, message_id, to_phone, body_digest, state, provider_sid, segments, error_code, \
        error_message, send_started_at, state_at, created_at, updated_at
        """

    /// Records a reply's SMS in state `message.state` unless one exists; returns the stored record and whether it is new.
    public func claimOutbound(_ message: OutboundMessage) async throws -> (message: OutboundMessage, created: Bool) {
        let inserted = try await database.query(
            """
            INSERT INTO outbound_messages (id, account_id, ticket_id, message_id, to_phone, body_digest, state, state_rank,
                provider_sid, segments, error_code, error_message, send_started_at, state_at, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO NOTHING RETURNING id
            """,
            [
                .text(message.id), .text(message.accountId), .integer(message.ticketId), .integer(message.messageId),
                .text(message.toPhone), .text(message.bodyDigest), .text(message.state.rawValue),
                .integer(Int64(message.state.rank)),
                message.providerSid.sqlValue, message.segments.sqlValue, message.errorCode.sqlValue,
                message.errorMessage.sqlValue,
                message.sendStartedAt?.millis.sqlValue ?? .null, message.stateAt?.millis.sqlValue ?? .null,
                .integer(message.createdAt.millis), .integer(message.updatedAt.millis),
            ]
        )
        guard let stored = try await outbound(id: message.id) else {
            throw StoreError(.unavailable, "outbound message was not recorded")
        }
        return (stored, !inserted.isEmpty)
    }

    /// Whether a provider message is already recorded as some reply's SMS or some system SMS (a consent confirmation,
    /// a HELP answer): reconciliation must not take it for another send.
    public func isProviderMessageClaimed(accountId: String, sid: String) async throws -> Bool {
        !(try await database.query(
            """
            SELECT 1 AS claimed FROM outbound_messages WHERE account_id = ? AND provider_sid = ?
            UNION ALL SELECT 1 AS claimed FROM effects WHERE account_id = ? AND reference = ?
            """,
            accountId, sid, accountId, sid
        )).isEmpty
    }

    public func outbound(id: String) async throws -> OutboundMessage? {
        try await database.query("SELECT \(Self.outboundColumns) FROM outbound_messages WHERE id = ?", id).first.map(
            Self.outbound)
    }

    public func outbound(accountId: String, providerSid: String) async throws -> OutboundMessage? {
        try await database.query(
            "SELECT \(Self.outboundColumns) FROM outbound_messages WHERE account_id = ? AND provider_sid = ?",
            accountId, providerSid
        ).first.map(Self.outbound)
    }

    /// Moves a record forward to `state` (never back), setting the provider id, segments and error when given.
    /// Returns the updated record, or nil when it was already at or past `state`.
    @discardableResult
    public func advanceOutbound(
        id: String,
        to state: OutboundState,
        providerSid: String? = nil,
        segments: Int? = nil,
        errorCode: Int? = nil,
        errorMessage: String? = nil,
        sendStartedAt: Date? = nil,
        at: Date = Date()
    ) async throws -> OutboundMessage? {
        try await Self.advanceOutbound(
            id: id, to: state, providerSid: providerSid, segments: segments, errorCode: errorCode,
            errorMessage: errorMessage,
            sendStartedAt: sendStartedAt, at: at, in: database
        )
    }

    static func advanceOutbound(
        id: String, to state: OutboundState, providerSid: String?, segments: Int?, errorCode: Int?,
        errorMessage: String?,
        sendStartedAt: Date?, at: Date, in executor: any SQLExecutor
    ) async throws -> OutboundMessage? {
        let rows = try await executor.query(
            """
            UPDATE outbound_messages SET state = ?, state_rank = ?, provider_sid = COALESCE(?, provider_sid),
                segments = COALESCE(?, segments), error_code = COALESCE(?, error_code), error_message = COALESCE(?, error_message),
                send_started_at = COALESCE(?, send_started_at), state_at = ?, updated_at = ?
            WHERE id = ? AND state_rank < ? RETURNING \(outboundColumns)
            """,
            [
                .text(state.rawValue), .integer(Int64(state.rank)), providerSid.sqlValue, segments.sqlValue,
                errorCode.sqlValue,
                errorMessage.sqlValue, sendStartedAt?.millis.sqlValue ?? .null, .integer(at.millis),
                .integer(Date().millis),
                .text(id), .integer(Int64(state.rank)),
            ]
        )
        return try rows.first.map(outbound)
    }

    /// Decides, at the moment a send starts, whether consent allows it, and stamps the attempt (for reconciliation
    /// after a crash) in the same step. The consent check and the stamp run under the phone's consent lock (see
    /// ``lockConsent(accountId:phone:in:)``), so an opt-out committed before this step blocks the send, and one
    /// committed after it finds the send already started: a reply whose send starts after an opt-out never goes out.
    ///
    /// `conversationalWindow` (the account's conversational messaging option) also allows a send to a customer
    /// without consent on record who texted in within the window, unless they opted out. A blocked send changes
    /// nothing: the caller records it `blocked` with the note that explains it (so a retry can post that note again).
    public func beginSend(
        id: String, accountId: String, phone: String, conversationalWindow: Duration?, at: Date = Date()
    ) async throws -> SendClearance {
        try await database.transaction { executor in
            try await Store.lockConsent(accountId: accountId, phone: phone, in: executor)
            let subscriber = try await executor.query(
                "SELECT account_id, phone, state, changed_at, source, name, email FROM subscribers WHERE account_id = ? AND phone = ?",
                accountId, phone
            ).first.map(Store.subscriber)
            var clearance: SendClearance =
                subscriber?.state == .subscribed ? .clear(conversational: false) : .blocked(subscriber)
            if case .blocked = clearance, let window = conversationalWindow, subscriber?.state != .unsubscribed {
                let since = at.addingTimeInterval(-window.seconds).millis
                let texted = try await executor.query(
                    "SELECT 1 AS recent FROM conversations WHERE account_id = ? AND phone = ? AND last_activity_at >= ?",
                    accountId, phone, since
                )
                if !texted.isEmpty { clearance = .clear(conversational: true) }
            }
            if case .clear = clearance {
                try await executor.query(
                    "UPDATE outbound_messages SET send_started_at = ?, updated_at = ? WHERE id = ? AND state = 'sending'",
                    at.millis, at.millis, id
                )
            }
            return clearance
        }
    }

    /// Applies a provider delivery status to the message with `providerSid`, monotonically. With `entry`, the ledger
    /// entry is written in the same transaction; nil when another worker already recorded that event.
    public func applyDeliveryStatus(
        accountId: String,
        providerSid: String,
        state: OutboundState,
        errorCode: Int?,
        at: Date,
        recording entry: LedgerEntry? = nil
    ) async throws -> DeliveryResult? {
        try await database.transaction { executor in
            if let entry, !(try await Store.record(entry, in: executor)) { return nil }
            guard
                let current = try await executor.query(
                    "SELECT \(Store.outboundColumns) FROM outbound_messages WHERE account_id = ? AND provider_sid = ?\(executor.dialect.forUpdate)",
                    accountId, providerSid
                ).first.map(Store.outbound)
            else { return .unknownMessage }
            guard
                let advanced = try await Store.advanceOutbound(
                    id: current.id, to: state, providerSid: nil, segments: nil, errorCode: errorCode, errorMessage: nil,
                    sendStartedAt: nil, at: at, in: executor
                )
            else { return .stale(message: current) }
            return .advanced(from: current.state, message: advanced)
        }
    }

    static func outbound(_ row: SQLRow) throws -> OutboundMessage {
        guard let state = OutboundState(rawValue: row["state"].text ?? "") else {
            throw StoreError(.invalidData, "outbound message has an unknown state")
        }
        return OutboundMessage(
            id: row["id"].text ?? "", accountId: row["account_id"].text ?? "", ticketId: row["ticket_id"].int ?? 0,
            messageId: row["message_id"].int ?? 0, toPhone: row["to_phone"].text ?? "",
            bodyDigest: row["body_digest"].text ?? "",
            state: state, providerSid: row["provider_sid"].text, segments: row["segments"].int.map(Int.init),
            errorCode: row["error_code"].int.map(Int.init), errorMessage: row["error_message"].text,
            sendStartedAt: row["send_started_at"].int.map(Date.init(millis:)),
            stateAt: row["state_at"].int.map(Date.init(millis:)),
            createdAt: Date(millis: row["created_at"].int ?? 0), updatedAt: Date(millis: row["updated_at"].int ?? 0)
        )
    }
}
