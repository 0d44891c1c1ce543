import Foundation
import Logging
import NIOSSL
import PostgresNIO
import ServiceLifecycle
import SwitchboardBase
import SwitchboardObservability

/// Everything Switchboard remembers (architecture §4), on SQLite or PostgreSQL.
///
/// The logic is written once against ``SQLDatabase``; the two backends differ only in their driver and a few
/// dialect details, and one conformance suite runs against both. Conditional writes are single statements
/// (`INSERT … ON CONFLICT`, `UPDATE … WHERE`, `RETURNING`) or short transactions, so several processes can
/// share one database safely. Operations are grouped by concern in `Store+*.swift`.
public final class Store: Sendable {
    public let database: any SQLDatabase
    public let location: DatabaseURL
    let logger: Logger

    init(database: any SQLDatabase, location: DatabaseURL, logger: Logger, metrics: LabeledMetrics? = nil) {
        let traced = TracingSwitch.isOn ? TracedDatabase(database) : database
        self.database = metrics.map { MeteredDatabase(traced, metrics: $0) } ?? traced
        self.location = location
        self.logger = logger
    }

    /// Opens the database, waiting up to `reachableWithin` for a PostgreSQL server to accept a connection (zero:
    /// one try). For PostgreSQL the connection pool serves queries only while ``services`` run. With `metrics`, its
    /// statements and transactions are counted there.
    public static func open(
        _ location: DatabaseURL, logger: Logger, reachableWithin: Duration = .zero, metrics: LabeledMetrics? = nil
    ) async throws -> Store {
        switch location {
        case .sqlite(let path):
            return Store(
                database: try await SQLiteDatabase.open(path: path, logger: logger), location: location, logger: logger,
                metrics: metrics)
        case .postgres(let host, let port, let username, let password, let database, let requireTLS):
            let tls: PostgresClient.Configuration.TLS = requireTLS ? .require(.makeClientConfiguration()) : .disable
            try await waitUntilReachable(location, timeout: reachableWithin, logger: logger)
            var configuration = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
            configuration.options.maximumConnections = 16
            configuration.options.connectTimeout = .seconds(5)
            configuration.options.additionalStartupParameters = PostgresDatabase.sessionLimits
            return Store(
                database: PostgresDatabase(configuration: configuration, logger: logger), location: location,
                logger: logger, metrics: metrics)
        }
    }

    /// Connects once to a PostgreSQL location (nothing for SQLite): an unreachable server, an unknown database or
    /// refused credentials fail within seconds, with the reason.
    static func probe(_ location: DatabaseURL, logger: Logger) async throws {
        guard case .postgres(let host, let port, let username, let password, let database, let requireTLS) = location
        else { return }
        try await PostgresProbe.check(
            host: host, port: port, username: username, password: password, database: database,
            tls: requireTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable,
            logger: logger
        )
    }

    /// Waits up to `timeout` for `location` to accept a connection (a database starting beside the workers).
    static func waitUntilReachable(_ location: DatabaseURL, timeout: Duration, logger: Logger) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                return try await probe(location, logger: logger)
            } catch let error as StoreError where ContinuousClock.now < deadline {
                logger.warning("store not reachable yet, retrying: \(error)")
                try await Task.sleep(for: .seconds(2))
            }
        }
    }

    /// Services that must run while the store is used (PostgreSQL's pool); add them to the process's service group.
    public var services: [any Service] {
        database.services
    }

    /// Opens the store, runs its services, optionally migrates, runs `body`, and closes everything; with `metrics`,
    /// its statements are counted there.
    public static func withStore<T: Sendable>(
        _ location: DatabaseURL,
        logger: Logger,
        migrate: Bool = true,
        reachableWithin: Duration = .zero,
        metrics: LabeledMetrics? = nil,
        _ body: @Sendable (Store) async throws -> T
    ) async throws -> T {
        let store = try await open(location, logger: logger, reachableWithin: reachableWithin, metrics: metrics)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for service in store.services {
                // The body waits until the service is entering `run()`, so the pool never sees a lease first
                // (postgres-nio warns on every such lease).
                let started = AsyncEvent()
                group.addTask {
                    started.signal()
                    try await service.run()
                }
                await started.wait()
            }
            defer { group.cancelAll() }
            do {
                if migrate { _ = try await store.migrate() }
                let result = try await body(store)
                await store.close()
                return result
            } catch {
                await store.close()
                throw error
            }
        }
    }

    /// Applies pending migrations; returns the versions applied. Fails if the schema is newer than this binary.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await Migrations.run(on: database)
    }

    /// The schema version in the database (0 for an empty database).
    public func schemaVersion() async throws -> Int {
        try await database.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)", []
        )
        return try await Migrations.currentVersion(database)
    }

    /// The newest schema version this binary knows.
    public static var latestSchemaVersion: Int { Migrations.latestVersion }

    /// True when the database answers (readiness).
    public func isReachable() async -> Bool {
        (try? await database.query("SELECT 1 AS ok", [])) != nil
    }

    public func close() async {
        await database.close()
    }
}
