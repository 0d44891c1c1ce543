import Foundation
import SwitchboardBase

/// Named leases shared by every process on the store: one holder at a time, until it releases or its lease runs out
/// (a holder that crashed blocks the others for at most the lease's duration).
extension Store {
    /// Takes lease `name` for `holder` until `duration` from now, if nobody else holds it; returns whether it did.
    /// A holder taking its own lease again extends it.
    public func acquireLease(_ name: String, holder: String, for duration: Duration, now: Date = Date()) async throws
        -> Bool
    {
        let rows = try await database.query(
            """
            INSERT INTO leases (name, holder, until_at) VALUES (?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_at = excluded.until_at
                WHERE leases.until_at <= ? OR leases.holder = excluded.holder
            RETURNING holder
            """,
            name, holder, now.addingTimeInterval(duration.seconds).millis, now.millis)
        return rows.first?["holder"].text == holder
    }

    /// Gives lease `name` up, if `holder` still holds it.
    public func releaseLease(_ name: String, holder: String) async throws {
        try await database.query("DELETE FROM leases WHERE name = ? AND holder = ?", name, holder)
    }

    /// Replaces account `id`'s sealed credentials only if they are still `expected` (another process may have
    /// replaced them meanwhile); returns whether it did.
    public func replaceCredentials(accountId id: String, expected: String, with sealed: String, at: Date = Date())
        async throws -> Bool
    {
        !(try await database.query(
            "UPDATE accounts SET credentials = ?, updated_at = ? WHERE id = ? AND credentials = ? RETURNING id",
            sealed, at.millis, id, expected)).isEmpty
    }
}
