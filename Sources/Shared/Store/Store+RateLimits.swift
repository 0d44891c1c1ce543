import Foundation

/// Token buckets shared by every process (per account and API), taken atomically in the database.
extension Store {
    /// Takes one token from `bucket` (created full on first use). Returns `.zero` when granted, otherwise how long
    /// to wait before a token is due. A single conditional `UPDATE` makes the take atomic on both backends, so
    /// concurrent workers never exceed the budget.
    public func takeToken(bucket: String, capacity: Double, refillPerSecond: Double, now: Date = Date()) async throws -> Duration {
        let millis = now.millis
        let dialect = database.dialect
        let available = dialect.least("capacity", "tokens + \(dialect.greatest("0", "? - updated_at")) * refill_per_second / 1000.0")
        for _ in 0..<2 {
            let granted = try await database.query(
                """
                UPDATE rate_buckets SET tokens = \(available) - 1, updated_at = \(dialect.greatest("updated_at", "?")),
                    capacity = ?, refill_per_second = ?
                WHERE bucket = ? AND blocked_until <= ? AND \(available) >= 1
                RETURNING tokens
                """,
                [.integer(millis), .integer(millis), .double(capacity), .double(refillPerSecond), .text(bucket), .integer(millis), .integer(millis)]
            )
            if !granted.isEmpty { return .zero }
            let rows = try await database.query(
                "SELECT tokens, updated_at, refill_per_second, blocked_until FROM rate_buckets WHERE bucket = ?", bucket
            )
            guard let row = rows.first else {
                try await database.query(
                    """
                    INSERT INTO rate_buckets (bucket, tokens, capacity, refill_per_second, updated_at, blocked_until)
                    VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (bucket) DO NOTHING
                    """,
                    bucket, capacity, capacity, refillPerSecond, millis
                )
                continue
            }
            let blockedFor = Double((row["blocked_until"].int ?? 0) - millis) / 1000
            let tokens = min(capacity, (row["tokens"].double ?? 0) + Double(max(0, millis - (row["updated_at"].int ?? millis))) / 1000 * refillPerSecond)
            let refillWait = (1 - tokens) / max(refillPerSecond, 0.001)
            return .milliseconds(Int64(max(blockedFor, refillWait, 0.001) * 1000))
        }
        return .milliseconds(50)
    }

    /// Blocks `bucket` until `until` and empties it (a 429 `Retry-After`, or the API reporting the budget spent).
    public func blockBucket(bucket: String, until: Date) async throws {
        try await database.query(
            "UPDATE rate_buckets SET blocked_until = \(database.dialect.greatest("blocked_until", "?")), tokens = 0 WHERE bucket = ?",
            until.millis, bucket
        )
    }
}
