import Foundation

/// Removing an account for good (`switchboard accounts delete --purge`).
extension Store {
    /// Tables whose rows belong to one account through `account_id`, purged with it.
    static let purgedTables = [
        "conversations", "tickets", "ticket_status_history", "outbound_messages", "effects", "helpdesk_followups",
        "webhook_receipts", "account_health", "oauth_connections",
        "merchant_notices",
    ]

    /// Tables kept when an account is purged: the consent record (current state and its history with evidence). A
    /// merchant must be able to show when and how each number consented or opted out long after it left, and a STOP
    /// must still stand if the same account id is added again.
    public static let keptOnPurge = ["subscribers", "consent_history"]

    /// Deletes account `id`, its credentials and everything held for it — conversations, tickets and their history,
    /// the outbound journal, effects, helpdesk follow-ups, webhook receipts, health checks, its rate budgets and parked keys — in one
    /// transaction, keeping ``keptOnPurge``. The processed-event ledger has no account column and holds only event
    /// ids, outcomes and fingerprints; it expires with `LEDGER_RETENTION`. Returns rows deleted per table, or nil
    /// when there is no such account.
    public func purgeAccount(id: String) async throws -> [(table: String, rows: Int)]? {
        try await database.transaction { database in
            let removed = try await database.query("DELETE FROM accounts WHERE id = ? RETURNING id", id).count
            guard removed == 1 else { return nil }
            var counts: [(table: String, rows: Int)] = [("accounts", removed)]
            for table in Self.purgedTables {
                let rows = try await database.query(
                    "DELETE FROM \(table) WHERE account_id = ? RETURNING account_id", id
                ).count
                counts.append((table, rows))
            }
            let buckets = try await database.query(
                "DELETE FROM rate_buckets WHERE bucket IN (?, ?) RETURNING bucket", "gorgias:\(id)", "sms:\(id)"
            ).count
            counts.append(("rate_buckets", buckets))
            let leases = try await database.query(
                "DELETE FROM leases WHERE name = ? RETURNING name", "gorgias-oauth:\(id)"
            ).count
            counts.append(("leases", leases))
            // A parked key is `<source topic> <record key>`, and every record key starts with `<account id>:`.
            let parked = try await database.query("SELECT seq, record_key FROM parked_keys", []).filter { row in
                let key = row["record_key"].text ?? ""
                return key.split(separator: " ", maxSplits: 1).last?.hasPrefix("\(id):") == true
            }
            for row in parked {
                try await database.query("DELETE FROM parked_keys WHERE seq = ?", row["seq"])
            }
            counts.append(("parked_keys", parked.count))
            return counts
        }
    }

    /// Rows of the consent record kept for account `id` (see ``keptOnPurge``).
    public func keptConsentRows(accountId id: String) async throws -> [(table: String, rows: Int)] {
        var counts: [(table: String, rows: Int)] = []
        for table in Self.keptOnPurge {
            let rows = try await database.query("SELECT COUNT(*) AS n FROM \(table) WHERE account_id = ?", id)
            counts.append((table, Int(rows.first?["n"].int ?? 0)))
        }
        return counts
    }
}
