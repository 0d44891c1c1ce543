import Foundation
import SwitchboardBase

/// The merchant health checks' last results, for `switchboard accounts list|show`.
extension Store {
    /// Records `check`'s result for `account`; the change time moves only when the result flips.
    public func recordHealth(account: String, check: String, healthy: Bool, detail: String, at: Date = Date())
        async throws
    {
        try await database.query(
            """
            INSERT INTO account_health (account_id, check_name, healthy, detail, checked_at, changed_at)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (account_id, check_name) DO UPDATE SET
                changed_at = CASE WHEN account_health.healthy = excluded.healthy
                    THEN account_health.changed_at ELSE excluded.changed_at END,
                healthy = excluded.healthy, detail = excluded.detail, checked_at = excluded.checked_at
            """,
            account, check, Int64(healthy ? 1 : 0), detail, at.millis, at.millis
        )
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
