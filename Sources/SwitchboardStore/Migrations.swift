import Foundation

/// Versioned schema migrations, applied in order at start and by `switchboard migrate`.
///
/// Times are integer milliseconds since 1970 and booleans 0/1 on both backends. A database whose schema is newer
/// than this binary knows is refused with a clear error (an old binary must not write to a newer schema).
enum Migrations {
    struct Migration: Sendable {
        var version: Int
        var summary: String
        var statements: @Sendable (SQLDialect) -> [String]
    }

    static var latestVersion: Int { all.last!.version }

    static let all: [Migration] = [
        Migration(
            version: 1,
            summary: "accounts, subscribers, conversations, tickets, ledger, parking, outbound, effects, rate buckets"
        ) { dialect in
            let autoincrement = dialect == .sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY"
            let double = dialect == .sqlite ? "REAL" : "DOUBLE PRECISION"
            return [
                """
                CREATE TABLE accounts (
                    id TEXT PRIMARY KEY,
                    status TEXT NOT NULL,
                    gorgias_base_url TEXT NOT NULL,
                    gorgias_auth_kind TEXT NOT NULL,
                    gorgias_email TEXT,
                    sms_base_url TEXT NOT NULL,
                    sms_account_sid TEXT NOT NULL,
                    sms_from TEXT,
                    sms_messaging_service_sid TEXT,
                    settings TEXT NOT NULL,
                    credentials TEXT NOT NULL,
                    gorgias_integration_id BIGINT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE subscribers (
                    account_id TEXT NOT NULL,
                    phone TEXT NOT NULL,
                    state TEXT NOT NULL,
                    changed_at BIGINT NOT NULL,
                    source TEXT NOT NULL,
                    name TEXT,
                    email TEXT,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (account_id, phone)
                )
                """,
                """
                CREATE TABLE consent_history (
                    id \(autoincrement),
                    account_id TEXT NOT NULL,
                    phone TEXT NOT NULL,
                    state TEXT NOT NULL,
                    source TEXT NOT NULL,
                    at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX consent_history_account ON consent_history (account_id, at)",
                """
                CREATE TABLE conversations (
                    id TEXT PRIMARY KEY,
                    account_id TEXT NOT NULL,
                    phone TEXT NOT NULL,
                    customer_id BIGINT,
                    current_ticket_id BIGINT,
                    ticket_count INTEGER NOT NULL DEFAULT 0,
                    last_activity_at BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    UNIQUE (account_id, phone)
                )
                """,
                """
                CREATE TABLE tickets (
                    account_id TEXT NOT NULL,
                    ticket_id BIGINT NOT NULL,
                    conversation_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    snoozed_until BIGINT,
                    status_at BIGINT NOT NULL,
                    opened_at BIGINT NOT NULL,
                    closed_at BIGINT,
                    PRIMARY KEY (account_id, ticket_id)
                )
                """,
                """
                CREATE TABLE ticket_status_history (
                    id \(autoincrement),
                    account_id TEXT NOT NULL,
                    ticket_id BIGINT NOT NULL,
                    status TEXT NOT NULL,
                    snoozed_until BIGINT,
                    status_at BIGINT NOT NULL,
                    recorded_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX ticket_status_history_ticket ON ticket_status_history (account_id, ticket_id)",
                """
                CREATE TABLE processed_events (
                    consumer_group TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    processed_at BIGINT NOT NULL,
                    PRIMARY KEY (consumer_group, event_id)
                )
                """,
                "CREATE INDEX processed_events_age ON processed_events (processed_at)",
                """
                CREATE TABLE parked_keys (
                    seq \(autoincrement),
                    consumer_group TEXT NOT NULL,
                    record_key TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    topic TEXT NOT NULL,
                    due_at BIGINT NOT NULL,
                    UNIQUE (consumer_group, record_key, event_id)
                )
                """,
                "CREATE INDEX parked_keys_order ON parked_keys (consumer_group, record_key, seq)",
                """
                CREATE TABLE outbound_messages (
                    id TEXT PRIMARY KEY,
                    account_id TEXT NOT NULL,
                    ticket_id BIGINT NOT NULL,
                    message_id BIGINT NOT NULL,
                    to_phone TEXT NOT NULL,
                    body_digest TEXT NOT NULL,
                    state TEXT NOT NULL,
                    state_rank INTEGER NOT NULL,
                    provider_sid TEXT,
                    segments INTEGER,
                    error_code INTEGER,
                    error_message TEXT,
                    send_started_at BIGINT,
                    state_at BIGINT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX outbound_messages_sid ON outbound_messages (account_id, provider_sid)",
                "CREATE INDEX outbound_messages_ticket ON outbound_messages (account_id, ticket_id)",
                """
                CREATE TABLE effects (
                    account_id TEXT NOT NULL,
                    effect_key TEXT NOT NULL,
                    state TEXT NOT NULL,
                    reference TEXT,
                    started_at BIGINT NOT NULL,
                    completed_at BIGINT,
                    PRIMARY KEY (account_id, effect_key)
                )
                """,
                "CREATE INDEX effects_age ON effects (started_at)",
                """
                CREATE TABLE rate_buckets (
                    bucket TEXT PRIMARY KEY,
                    tokens \(double) NOT NULL,
                    capacity \(double) NOT NULL,
                    refill_per_second \(double) NOT NULL,
                    updated_at BIGINT NOT NULL,
                    blocked_until BIGINT NOT NULL DEFAULT 0
                )
                """,
            ]
        },
        Migration(
            version: 2,
            summary:
                "consent evidence, helpdesk follow-ups, parking scoped by source topic, effects by reference, webhook receipts"
        ) { dialect in
            // The source topic a parked row waits for is the part of its retry topic before `.retry.`.
            let source =
                dialect == .sqlite ? "substr(topic, 1, instr(topic, '.retry.') - 1)" : "split_part(topic, '.retry.', 1)"
            return [
                "ALTER TABLE consent_history ADD COLUMN event_id TEXT",
                "ALTER TABLE consent_history ADD COLUMN keyword TEXT",
                "ALTER TABLE consent_history ADD COLUMN recorded_at BIGINT",
                "UPDATE consent_history SET recorded_at = at",
                "CREATE INDEX consent_history_phone ON consent_history (account_id, phone, at)",
                """
                CREATE TABLE helpdesk_followups (
                    account_id TEXT NOT NULL,
                    followup_key TEXT NOT NULL,
                    ticket_id BIGINT,
                    phone TEXT,
                    note TEXT NOT NULL,
                    close_ticket INTEGER NOT NULL,
                    created_at BIGINT NOT NULL,
                    due_at BIGINT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    lease_until BIGINT NOT NULL DEFAULT 0,
                    last_error TEXT,
                    completed_at BIGINT,
                    outcome TEXT,
                    PRIMARY KEY (account_id, followup_key)
                )
                """,
                "CREATE INDEX helpdesk_followups_due ON helpdesk_followups (due_at) WHERE completed_at IS NULL",
                "CREATE INDEX helpdesk_followups_waiting ON helpdesk_followups (account_id, phone) WHERE ticket_id IS NULL AND completed_at IS NULL",
                "UPDATE parked_keys SET record_key = \(source) || ' ' || record_key WHERE topic LIKE '%.retry.%'",
                "CREATE INDEX effects_reference ON effects (account_id, reference)",
                """
                CREATE TABLE webhook_receipts (
                    account_id TEXT NOT NULL,
                    receipt_key TEXT NOT NULL,
                    first_seen_at BIGINT NOT NULL,
                    PRIMARY KEY (account_id, receipt_key)
                )
                """,
                "CREATE INDEX webhook_receipts_age ON webhook_receipts (first_seen_at)",
            ]
        },
        Migration(version: 3, summary: "merchant health checks") { _ in
            [
                """
                CREATE TABLE account_health (
                    account_id TEXT NOT NULL,
                    check_name TEXT NOT NULL,
                    healthy INTEGER NOT NULL,
                    detail TEXT NOT NULL,
                    checked_at BIGINT NOT NULL,
                    changed_at BIGINT NOT NULL,
                    PRIMARY KEY (account_id, check_name)
                )
                """
            ]
        },
        Migration(version: 4, summary: "OAuth connections awaiting consent, and leases") { _ in
            [
                """
                CREATE TABLE oauth_connections (
                    state_hash TEXT PRIMARY KEY,
                    account_id TEXT NOT NULL,
                    subdomain TEXT NOT NULL,
                    redirect_uri TEXT NOT NULL,
                    expires_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX oauth_connections_subdomain ON oauth_connections (subdomain)",
                """
                CREATE TABLE leases (
                    name TEXT PRIMARY KEY,
                    holder TEXT NOT NULL,
                    until_at BIGINT NOT NULL
                )
                """,
            ]
        },
        Migration(version: 5, summary: "notices sent to merchants") { _ in
            [
                """
                CREATE TABLE merchant_notices (
                    account_id TEXT NOT NULL,
                    check_name TEXT NOT NULL,
                    incident_at BIGINT NOT NULL,
                    kind TEXT NOT NULL,
                    sent_at BIGINT NOT NULL,
                    PRIMARY KEY (account_id, check_name, incident_at, kind)
                )
                """
            ]
        },
        Migration(version: 6, summary: "signed-in web sessions") { _ in
            [
                """
                CREATE TABLE web_sessions (
                    id_hash TEXT PRIMARY KEY,
                    surface TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    csrf TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX web_sessions_expiry ON web_sessions (expires_at)",
                // The App Store install link sends the merchant on with the pending state, not a new one.
                "ALTER TABLE oauth_connections ADD COLUMN sealed_state TEXT",
            ]
        },
    ]

    /// Applies every missing migration; returns the versions applied. Safe with several processes starting at once:
    /// each migration runs in a transaction that first re-reads the version under the write lock.
    static func run(on database: any SQLDatabase) async throws -> [Int] {
        try await database.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)", []
        )
        let current = try await currentVersion(database)
        guard current <= latestVersion else {
            throw StoreError(
                .schemaTooNew,
                "the database schema is version \(current) but this Switchboard knows up to \(latestVersion); upgrade Switchboard before using this database"
            )
        }
        var applied: [Int] = []
        for migration in all where migration.version > current {
            let didApply = try await database.transaction { executor in
                if executor.dialect == .postgres {
                    try await executor.query("LOCK TABLE schema_migrations IN EXCLUSIVE MODE", [])
                }
                let now = try await executor.query(
                    "SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations", [])
                guard (now.first?["version"].int ?? 0) < Int64(migration.version) else { return false }
                for statement in migration.statements(executor.dialect) {
                    try await executor.query(statement, [])
                }
                try await executor.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", Int64(migration.version),
                    Date().millis
                )
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        return applied
    }

    static func currentVersion(_ database: any SQLExecutor) async throws -> Int {
        let rows = try await database.query("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations", [])
        return Int(rows.first?["version"].int ?? 0)
    }
}

extension Date {
    /// Milliseconds since 1970, the store's time representation.
    public var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    public init(millis: Int64) {
        self.init(timeIntervalSince1970: Double(millis) / 1000)
    }
}
