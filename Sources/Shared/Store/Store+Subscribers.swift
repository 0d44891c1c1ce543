import Foundation

/// Subscribers and their consent.
extension Store {
    public func subscriber(accountId: String, phone: String) async throws -> Subscriber? {
        try await database.query(
            "SELECT account_id, phone, state, changed_at, source, name, email FROM subscribers WHERE account_id = ? AND phone = ?",
            accountId, phone
        ).first.map(Self.subscriber)
    }

    /// Applies a consent change unless a newer one stands (by event time; at equal times an opt-out wins).
    /// Name and email are filled in when unknown and never overwritten. With `entry`, the ledger entry is written
    /// in the same transaction; nil is returned when another worker already recorded that event.
    public func applyConsent(_ change: ConsentChange, recording entry: LedgerEntry? = nil) async throws -> ConsentResult? {
        try await database.transaction { executor in
            if let entry, !(try await Store.record(entry, in: executor)) { return nil }
            return try await Store.applyConsent(change, in: executor)
        }
    }

    static func applyConsent(_ change: ConsentChange, in executor: any SQLExecutor) async throws -> ConsentResult {
        let now = Date().millis
        let inserted = try await executor.query(
            """
            INSERT INTO subscribers (account_id, phone, state, changed_at, source, name, email, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (account_id, phone) DO NOTHING RETURNING phone
            """,
            change.accountId, change.phone, change.state.rawValue, change.at.millis, change.source, change.name, change.email, now
        )
        if !inserted.isEmpty {
            try await recordHistory(change, in: executor)
            return .applied(previous: nil)
        }
        let rows = try await executor.query(
            "SELECT account_id, phone, state, changed_at, source, name, email FROM subscribers WHERE account_id = ? AND phone = ?\(executor.dialect.forUpdate)",
            change.accountId, change.phone
        )
        guard let current = try rows.first.map(subscriber) else {
            throw StoreError(.unavailable, "subscriber vanished during a consent update")
        }
        try await executor.query(
            "UPDATE subscribers SET name = COALESCE(name, ?), email = COALESCE(email, ?) WHERE account_id = ? AND phone = ?",
            change.name, change.email, change.accountId, change.phone
        )
        let newer = change.at > current.changedAt
        let optOutTie = change.at == current.changedAt && change.state == .unsubscribed && current.state != .unsubscribed
        guard newer || optOutTie else { return .stale(current: current) }
        try await executor.query(
            "UPDATE subscribers SET state = ?, changed_at = ?, source = ?, updated_at = ? WHERE account_id = ? AND phone = ?",
            change.state.rawValue, change.at.millis, change.source, now, change.accountId, change.phone
        )
        try await recordHistory(change, in: executor)
        return .applied(previous: current.state)
    }

    private static func recordHistory(_ change: ConsentChange, in executor: any SQLExecutor) async throws {
        try await executor.query(
            "INSERT INTO consent_history (account_id, phone, state, source, at) VALUES (?, ?, ?, ?, ?)",
            change.accountId, change.phone, change.state.rawValue, change.source, change.at.millis
        )
    }

    /// Sets the subscriber's name (and email) when none is known yet.
    public func fillSubscriberContact(accountId: String, phone: String, name: String?, email: String?) async throws {
        try await database.query(
            "UPDATE subscribers SET name = COALESCE(name, ?), email = COALESCE(email, ?) WHERE account_id = ? AND phone = ?",
            name, email, accountId, phone
        )
    }

    private static func subscriber(_ row: SQLRow) throws -> Subscriber {
        guard let state = ConsentState(rawValue: row["state"].text ?? "") else {
            throw StoreError(.invalidData, "subscriber has an unknown consent state")
        }
        return Subscriber(
            accountId: row["account_id"].text ?? "", phone: row["phone"].text ?? "", state: state,
            changedAt: Date(millis: row["changed_at"].int ?? 0), source: row["source"].text ?? "",
            name: row["name"].text, email: row["email"].text
        )
    }
}
