import Foundation
import SwitchboardDomain

/// Reads for `switchboard trace`: everything the store holds about one conversation.
extension Store {
    /// The tickets a conversation has had, oldest first.
    public func tickets(conversationId: String) async throws -> [Int64] {
        try await database.query(
            "SELECT ticket_id FROM tickets WHERE conversation_id = ? ORDER BY opened_at", conversationId
        ).compactMap { $0["ticket_id"].int }
    }

    /// Outbound SMS of an account to `phone` or on any of `ticketIds`, oldest first.
    public func outboundMessages(accountId: String, phone: String, ticketIds: [Int64]) async throws
        -> [OutboundMessage]
    {
        let byPhone = try await database.query(
            "SELECT \(Self.outboundColumns) FROM outbound_messages WHERE account_id = ? AND to_phone = ?", accountId,
            phone)
        var byTicket: [SQLRow] = []
        for ticketId in ticketIds {
            byTicket += try await database.query(
                "SELECT \(Self.outboundColumns) FROM outbound_messages WHERE account_id = ? AND ticket_id = ?",
                accountId, ticketId)
        }
        var seen = Set<String>()
        return try (byPhone + byTicket).map(Self.outbound).filter { seen.insert($0.id).inserted }.sorted {
            $0.createdAt < $1.createdAt
        }
    }

    /// The effects of an account with these keys (those that exist).
    public func effects(accountId: String, keys: [String]) async throws -> [EffectRecord] {
        var effects: [EffectRecord] = []
        for key in Set(keys).sorted() {
            if let effect = try await effect(accountId: accountId, key: key) { effects.append(effect) }
        }
        return effects
    }
}
