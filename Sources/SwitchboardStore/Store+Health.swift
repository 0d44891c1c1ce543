import Foundation
import SwitchboardDomain

/// The merchant health checks' last results, for `switchboard accounts list|show`.
extension Store {
    /// Records `check`'s result for `account`; the change time moves only when the result flips. Returns the change
    /// time now stored (equal to `at` when this result is new or flipped).
    @discardableResult
    public func recordHealth(account: String, check: String, healthy: Bool, detail: String, at: Date = Date())
        async throws -> Date
    {
        let rows = try await database.query(
            """
            INSERT INTO account_health (account_id, check_name, healthy, detail, checked_at, changed_at)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (account_id, check_name) DO UPDATE SET
                changed_at = CASE WHEN account_health.healthy = excluded.healthy
                    THEN account_health.changed_at ELSE excluded.changed_at END,
                healthy = excluded.healthy, detail = excluded.detail, checked_at = excluded.checked_at
            RETURNING changed_at
            """,
            account, check, Int64(healthy ? 1 : 0), detail, at.millis, at.millis
        )
        return Date(millis: rows.first?["changed_at"].int ?? at.millis)
    }

    /// Claims the `kind` notice of `account`'s `check` incident that began at `incidentAt`: true for exactly one
    /// caller, however many workers saw the incident.
    public func claimNotice(account: String, check: String, incidentAt: Date, kind: String, at: Date = Date())
        async throws -> Bool
    {
        !(try await database.query(
            """
            INSERT INTO merchant_notices (account_id, check_name, incident_at, kind, sent_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING RETURNING kind
            """,
            account, check, incidentAt.millis, kind, at.millis)).isEmpty
    }

    /// The kind of the last notice sent about `account`'s `check`, if any.
    public func lastNotice(account: String, check: String) async throws -> String? {
        try await database.query(
            """
            SELECT kind FROM merchant_notices WHERE account_id = ? AND check_name = ?
            ORDER BY incident_at DESC, sent_at DESC LIMIT 1
            """,
            account, check
        ).first?["kind"].text
    }

    /// Every account's check results, by account id, each account's checks by name.
    public func accountHealth() async throws -> [String: [AccountHealth]] {
        let rows = try await database.query(
            "SELECT account_id, check_name, healthy, detail, checked_at, changed_at FROM account_health ORDER BY account_id, check_name",
            [])
        var health: [String: [AccountHealth]] = [:]
        for row in rows {
            guard let account = row["account_id"].text, let check = row["check_name"].text else { continue }
            health[account, default: []].append(
                AccountHealth(
                    check: check, healthy: row["healthy"].int == 1, detail: row["detail"].text ?? "",
                    checkedAt: Date(millis: row["checked_at"].int ?? 0),
                    changedAt: Date(millis: row["changed_at"].int ?? 0)))
        }
        return health
    }
}
