import Foundation
import SwitchboardDomain

/// Subscribers and their consent.
extension Store {
    public func subscriber(accountId: String, phone: String) async throws -> Subscriber? {
        try await database.query(
            "SELECT account_id, phone, state, changed_at, source, name, email FROM subscribers WHERE account_id = ? AND phone = ?",
            accountId, phone
        ).first.map(Self.subscriber)
    }

    /// Applies a consent change unless a newer one stands (by event time; at equal times an opt-out wins).
    /// Name and email are filled in when unknown and never overwritten. A `followUp` (the helpdesk side of the
    /// change) is scheduled in the same transaction when the change applies. With `entry`, the ledger entry is
    /// written in the same transaction; nil is returned when another worker already recorded that event.
    public func applyConsent(
        _ change: ConsentChange, followUp: HelpdeskFollowUp? = nil, recording entry: LedgerEntry? = nil
    ) async throws -> ConsentResult? {
        try await database.transaction { executor in
            if let entry, !(try await Store.record(entry, in: executor)) { return nil }
            let result = try await Store.applyConsent(change, in: executor)
            if case .applied = result, let followUp { try await Store.scheduleFollowUp(followUp, in: executor) }
            return result
        }
    }

    /// Serializes consent changes and send decisions for one phone within a transaction (see ``beginSend``).
    /// SQLite's `BEGIN IMMEDIATE` already serializes every writer; PostgreSQL takes a transaction-scoped advisory lock,
    /// which also covers a subscriber row that does not exist yet.
    static func lockConsent(accountId: String, phone: String, in executor: any SQLExecutor) async throws {
        guard executor.dialect == .postgres else { return }
        try await executor.query(
            "SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtextextended(?, 0))", "consent:\(accountId):\(phone)")
    }

    static func applyConsent(_ change: ConsentChange, in executor: any SQLExecutor) async throws -> ConsentResult {
        try await lockConsent(accountId: change.accountId, phone: change.phone, in: executor)
        let now = Date().millis
        let inserted = try await executor.query(
            """
            INSERT INTO subscribers (account_id, phone, state, changed_at, source, name, email, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (account_id, phone) DO NOTHING RETURNING phone
            """,
            change.accountId, change.phone, change.state.rawValue, change.at.millis, change.source, change.name,
            change.email, now
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
        let optOutTie =
            change.at == current.changedAt && change.state == .unsubscribed && current.state != .unsubscribed
        guard newer || optOutTie else { return .stale(current: current) }
        guard ConsentSource.mayReplace(current, with: change) else { return .refused(current: current) }
        try await executor.query(
            "UPDATE subscribers SET state = ?, changed_at = ?, source = ?, updated_at = ? WHERE account_id = ? AND phone = ?",
            change.state.rawValue, change.at.millis, change.source, now, change.accountId, change.phone
        )
        try await recordHistory(change, in: executor)
        return .applied(previous: current.state)
    }

    private static func recordHistory(_ change: ConsentChange, in executor: any SQLExecutor) async throws {
        try await executor.query(
            "INSERT INTO consent_history (account_id, phone, state, source, at, event_id, keyword, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            change.accountId, change.phone, change.state.rawValue, change.source, change.at.millis, change.eventId,
            change.keyword, Date().millis
        )
    }

    /// Every recorded consent change of one phone, oldest first: the evidence `switchboard consent show` prints.
    public func consentHistory(accountId: String, phone: String) async throws -> [ConsentRecord] {
        try await database.query(
            "SELECT \(Self.historyColumns) FROM consent_history WHERE account_id = ? AND phone = ? ORDER BY at, id",
            accountId, phone
        ).map(Self.consentRecord)
    }

    /// Every recorded consent change of an account, oldest first (`switchboard consent export --history`).
    public func consentHistory(accountId: String) async throws -> [ConsentRecord] {
        try await database.query(
            "SELECT \(Self.historyColumns) FROM consent_history WHERE account_id = ? ORDER BY at, id", accountId
        ).map(Self.consentRecord)
    }

    /// Every subscriber of an account, by phone.
    public func subscribers(accountId: String) async throws -> [Subscriber] {
        try await database.query(
            "SELECT account_id, phone, state, changed_at, source, name, email FROM subscribers WHERE account_id = ? ORDER BY phone",
            accountId
        ).map(Self.subscriber)
    }

    /// Applies imported consent changes all together, in one transaction (each as ``applyConsent(_:followUp:recording:)``
    /// would: a newer change on record stands, and an import never undoes a customer's own opt-out). Returns how many
    /// became the subscriber's state, how many were older than the consent on record, and how many were refused.
    public func importConsent(_ changes: [ConsentChange]) async throws -> (applied: Int, stale: Int, refused: Int) {
        try await database.transaction { executor in
            var counts = (applied: 0, stale: 0, refused: 0)
            for change in changes {
                switch try await Store.applyConsent(change, in: executor) {
                case .applied: counts.applied += 1
                case .stale: counts.stale += 1
                case .refused: counts.refused += 1
                }
            }
            return counts
        }
    }

    private static let historyColumns = "account_id, phone, state, source, at, event_id, keyword, recorded_at"

    private static func consentRecord(_ row: SQLRow) throws -> ConsentRecord {
        guard let state = ConsentState(rawValue: row["state"].text ?? "") else {
            throw StoreError(.invalidData, "consent history has an unknown consent state")
        }
        let at = Date(millis: row["at"].int ?? 0)
        return ConsentRecord(
            accountId: row["account_id"].text ?? "", phone: row["phone"].text ?? "", state: state, at: at,
            recordedAt: row["recorded_at"].int.map(Date.init(millis:)) ?? at, source: row["source"].text ?? "",
            eventId: row["event_id"].text, keyword: row["keyword"].text
        )
    }

    /// Sets the subscriber's name (and email) when none is known yet.
    public func fillSubscriberContact(accountId: String, phone: String, name: String?, email: String?) async throws {
        try await database.query(
            "UPDATE subscribers SET name = COALESCE(name, ?), email = COALESCE(email, ?) WHERE account_id = ? AND phone = ?",
            name, email, accountId, phone
        )
    }

    static func subscriber(_ row: SQLRow) throws -> Subscriber {
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
