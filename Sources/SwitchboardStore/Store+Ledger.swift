import Foundation
import SwitchboardDomain

/// The processed-event ledger (per consumer group and event id), backing the runtime's idempotency hook.
extension Store: IdempotencyLedger {
    public func lookup(group: String, eventId: String) async throws -> LedgerEntry? {
        try StoreLimits.identifier(group, "consumer group")
        try StoreLimits.identifier(eventId, "event id")
        let rows = try await database.query(
            "SELECT outcome, fingerprint, processed_at FROM processed_events WHERE consumer_group = ? AND event_id = ?",
            group, eventId
        )
        return rows.first.map { row in
            LedgerEntry(
                group: group, eventId: eventId,
                outcome: RecordOutcome(rawValue: row["outcome"].text ?? "") ?? .processed,
                fingerprint: row["fingerprint"].text ?? "",
                recordedAt: Date(millis: row["processed_at"].int ?? 0)
            )
        }
    }

    public func record(_ entry: LedgerEntry) async throws -> Bool {
        try await Self.record(entry, in: database)
    }

    /// Records `entry` with `executor` (inside a domain transaction); false when another worker recorded it first.
    static func record(_ entry: LedgerEntry, in executor: any SQLExecutor) async throws -> Bool {
        try StoreLimits.identifier(entry.group, "consumer group")
        try StoreLimits.identifier(entry.eventId, "event id")
        let rows = try await executor.query(
            """
            INSERT INTO processed_events (consumer_group, event_id, outcome, fingerprint, processed_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (consumer_group, event_id) DO NOTHING RETURNING event_id
            """,
            entry.group, entry.eventId, entry.outcome.rawValue, entry.fingerprint, entry.recordedAt.millis
        )
        return !rows.isEmpty
    }

    /// When each event `group` finished was first recorded (the recovery benchmark's timeline).
    public func processedTimes(group: String) async throws -> [String: Date] {
        let rows = try await database.query(
            "SELECT event_id, processed_at FROM processed_events WHERE consumer_group = ?", group)
        return Dictionary(
            rows.compactMap { row in row["event_id"].text.map { ($0, Date(millis: row["processed_at"].int ?? 0)) } }
        ) { first, _ in first }
    }

    /// Deletes ledger entries and finished effect records older than `cutoff`, in batches; returns how many.
    @discardableResult
    public func purgeLedger(olderThan cutoff: Date, batchSize: Int = 5000) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await database.query(
                """
                DELETE FROM processed_events WHERE (consumer_group, event_id) IN
                (SELECT consumer_group, event_id FROM processed_events WHERE processed_at < ? LIMIT ?) RETURNING event_id
                """,
                cutoff.millis, batchSize
            ).count
            total += deleted
            if deleted < batchSize { break }
        }
        try await database.query("DELETE FROM effects WHERE state = 'done' AND started_at < ?", cutoff.millis)
        try await database.query("DELETE FROM webhook_receipts WHERE first_seen_at < ?", cutoff.millis)
        // Finished follow-ups, and those that waited for a ticket the customer never opened.
        try await database.query(
            "DELETE FROM helpdesk_followups WHERE (completed_at IS NOT NULL OR ticket_id IS NULL) AND created_at < ?",
            cutoff.millis
        )
        return total
    }
}

/// First sightings of provider webhooks (the ingress' ``WebhookReceipts``).
extension Store {
    /// The time `key` was first seen for `accountId`, recording `now` if it is new.
    public func firstSeen(accountId: String, key: String, now: Date = Date()) async throws -> Date {
        try StoreLimits.identifier(key, "webhook key")
        let inserted = try await database.query(
            """
            INSERT INTO webhook_receipts (account_id, receipt_key, first_seen_at) VALUES (?, ?, ?)
            ON CONFLICT (account_id, receipt_key) DO NOTHING RETURNING first_seen_at
            """,
            accountId, key, now.millis
        )
        if let first = inserted.first?["first_seen_at"].int { return Date(millis: first) }
        let rows = try await database.query(
            "SELECT first_seen_at FROM webhook_receipts WHERE account_id = ? AND receipt_key = ?", accountId, key
        )
        return rows.first?["first_seen_at"].int.map(Date.init(millis:)) ?? now
    }
}

/// A record's first look: its ledger entry and its key's parked head in one statement.
extension Store: LedgerAndParking {
    public func lookup(group: String, eventId: String, parkedUnder key: String?) async throws -> (
        LedgerEntry?, ParkedEvent?
    ) {
        try StoreLimits.identifier(group, "consumer group")
        try StoreLimits.identifier(eventId, "event id")
        let row = try await database.query(
            """
            SELECT handled.outcome, handled.fingerprint, handled.processed_at,
                head.event_id AS head_event_id, head.topic AS head_topic, head.due_at AS head_due_at
            FROM (SELECT 1 AS probe) AS probe
            LEFT JOIN processed_events AS handled ON handled.consumer_group = ? AND handled.event_id = ?
            LEFT JOIN (SELECT event_id, topic, due_at FROM parked_keys WHERE consumer_group = ? AND record_key = ?
                ORDER BY seq LIMIT 1) AS head ON 1 = 1
            """,
            [.text(group), .text(eventId), .text(group), key.map(SQLValue.text) ?? .null]
        ).first
        let entry = row?["outcome"].text.map { outcome in
            LedgerEntry(
                group: group, eventId: eventId, outcome: RecordOutcome(rawValue: outcome) ?? .processed,
                fingerprint: row?["fingerprint"].text ?? "", recordedAt: Date(millis: row?["processed_at"].int ?? 0))
        }
        let head = row?["head_event_id"].text.map { headId in
            ParkedEvent(
                eventId: headId, topic: row?["head_topic"].text ?? "",
                dueAt: Date(millis: row?["head_due_at"].int ?? 0))
        }
        return (entry, head)
    }
}

/// Ordered-retry parking (see ``KeyParking``), shared by every process of a group.
extension Store: KeyParking {
    public func head(group: String, key: String) async throws -> ParkedEvent? {
        let rows = try await database.query(
            "SELECT event_id, topic, due_at FROM parked_keys WHERE consumer_group = ? AND record_key = ? ORDER BY seq LIMIT 1",
            group, key
        )
        return rows.first.map {
            ParkedEvent(
                eventId: $0["event_id"].text ?? "", topic: $0["topic"].text ?? "",
                dueAt: Date(millis: $0["due_at"].int ?? 0))
        }
    }

    public func park(group: String, key: String, eventId: String, topic: String, dueAt: Date) async throws {
        try StoreLimits.identifier(key, "record key")
        try StoreLimits.identifier(eventId, "event id")
        try await database.query(
            """
            INSERT INTO parked_keys (consumer_group, record_key, event_id, topic, due_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (consumer_group, record_key, event_id) DO UPDATE SET topic = excluded.topic, due_at = excluded.due_at
            """,
            group, key, eventId, topic, dueAt.millis
        )
    }

    public func release(group: String, key: String, eventId: String) async throws {
        try await database.query(
            "DELETE FROM parked_keys WHERE consumer_group = ? AND record_key = ? AND event_id = ?", group, key, eventId
        )
    }
}

/// The effect journal: side effects recorded before they are attempted.
extension Store {
    /// Starts effect `key`, or returns the existing record when it was started (or done) before.
    public func beginEffect(accountId: String, key: String, at: Date = Date()) async throws -> EffectRecord? {
        try StoreLimits.identifier(key, "effect key")
        let inserted = try await database.query(
            """
            INSERT INTO effects (account_id, effect_key, state, started_at) VALUES (?, ?, 'started', ?)
            ON CONFLICT (account_id, effect_key) DO NOTHING RETURNING effect_key
            """,
            accountId, key, at.millis
        )
        return inserted.isEmpty ? try await effect(accountId: accountId, key: key) : nil
    }

    /// Marks effect `key` done, remembering what it produced; with `entry`, records the event that did it in the
    /// processed-event ledger in the same transaction (one commit where there would be two).
    public func completeEffect(
        accountId: String, key: String, reference: String?, at: Date = Date(), recording entry: LedgerEntry? = nil
    ) async throws {
        guard let entry else {
            return try await Self.completeEffect(
                accountId: accountId, key: key, reference: reference, at: at, in: database)
        }
        try await database.transaction { executor in
            try await Self.completeEffect(accountId: accountId, key: key, reference: reference, at: at, in: executor)
            _ = try await Self.record(entry, in: executor)
        }
    }

    private static func completeEffect(
        accountId: String, key: String, reference: String?, at: Date, in executor: any SQLExecutor
    ) async throws {
        try await executor.query(
            """
            INSERT INTO effects (account_id, effect_key, state, reference, started_at, completed_at) VALUES (?, ?, 'done', ?, ?, ?)
            ON CONFLICT (account_id, effect_key) DO UPDATE SET state = 'done', reference = excluded.reference, completed_at = excluded.completed_at
            """,
            accountId, key, reference, at.millis, at.millis
        )
    }

    public func effect(accountId: String, key: String) async throws -> EffectRecord? {
        let rows = try await database.query(
            "SELECT state, reference, started_at FROM effects WHERE account_id = ? AND effect_key = ?", accountId, key
        )
        return rows.first.map {
            EffectRecord(
                accountId: accountId, key: key, state: EffectRecord.State(rawValue: $0["state"].text ?? "") ?? .started,
                reference: $0["reference"].text, startedAt: Date(millis: $0["started_at"].int ?? 0)
            )
        }
    }
}
