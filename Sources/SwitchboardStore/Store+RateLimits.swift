import Foundation

/// Token buckets shared by every process (per account and API), taken atomically in the database.
extension Store {
    /// Takes `count` tokens from `bucket` (created full on first use), all or none. Returns `.zero` when granted,
    /// otherwise how long to wait before that many are due. A single conditional `UPDATE` makes the take atomic on
    /// both backends, so concurrent workers never exceed the budget.
    public func takeToken(bucket: String, capacity: Double, refillPerSecond: Double, count: Int = 1, now: Date = Date())
        async throws -> Duration
    {
        let count = Double(max(1, min(count, Int(capacity))))
        let millis = now.millis
        let dialect = database.dialect
        let available = dialect.least(
            "capacity", "tokens + \(dialect.greatest("0", "? - updated_at")) * refill_per_second / 1000.0")
        for _ in 0..<2 {
            let granted = try await database.query(
                """
                UPDATE rate_buckets SET tokens = \(available) - ?, updated_at = \(dialect.greatest("updated_at", "?")),
                    capacity = ?, refill_per_second = ?
                WHERE bucket = ? AND blocked_until <= ? AND \(available) >= ?
                RETURNING tokens
                """,
                [
                    .integer(millis), .double(count), .integer(millis), .double(capacity), .double(refillPerSecond),
                    .text(bucket), .integer(millis),
                    .integer(millis), .double(count),
                ]
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
            let tokens = min(
                capacity,
                (row["tokens"].double ?? 0) + Double(max(0, millis - (row["updated_at"].int ?? millis))) / 1000
                    * refillPerSecond)
            let refillWait = (count - tokens) / max(refillPerSecond, 0.001)
            return .milliseconds(Int64(max(blockedFor, refillWait, 0.001) * 1000))
        }
        return .milliseconds(50)
    }

    /// Puts back `count` tokens taken ahead and not spent (never above the bucket's capacity).
    public func refundTokens(bucket: String, count: Int) async throws {
        guard count > 0 else { return }
        try await database.query(
            "UPDATE rate_buckets SET tokens = \(database.dialect.least("capacity", "tokens + ?")) WHERE bucket = ?",
            Double(count), bucket
        )
    }

    /// Blocks `bucket` until `until` and empties it (a 429 `Retry-After`, or the API reporting the budget spent).
    public func blockBucket(bucket: String, until: Date) async throws {
        try await database.query(
            "UPDATE rate_buckets SET blocked_until = \(database.dialect.greatest("blocked_until", "?")), tokens = 0 WHERE bucket = ?",
            until.millis, bucket
        )
    }
}
