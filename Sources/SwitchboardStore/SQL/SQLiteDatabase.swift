import Dispatch
import Foundation
import Logging
import SwitchboardBase

/// SQLite through Debian's libsqlite3, one connection per process (``SQLiteConnection``), its statements prepared once
/// and kept.
///
/// Statements run one at a time on the database's own thread (a serial queue), never on the cooperative pool: a
/// statement that waits for another process's lock (SQLite's busy timeout), a checkpoint or a long purge then blocks
/// no task but its caller, and a loop of store calls still gives the pool's threads back between statements (running
/// them on the calling thread measured about half the InboundWorker's CPU per text, but it let store-heavy tasks
/// starve the others and grew a flooded ingress by another MiB; README, Performance). WAL mode lets readers and one writer proceed together; several worker processes
/// may share the file: writers serialize through SQLite's lock (`BEGIN IMMEDIATE`, waiting up to the busy timeout).
public final class SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    private let connection: SQLiteConnection
    private let lock = AsyncLock()
    /// The thread every statement runs on.
    private let queue = DispatchQueue(label: "switchboard.sqlite")

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Opens (creating if needed) the database file at `path`.
    public static func open(path: String, logger: Logger) async throws -> SQLiteDatabase {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection(path: path)
        } catch let failure as SQLiteConnection.Failure {
            throw StoreError(.unavailable, "cannot open SQLite database \(path): \(failure.message)")
        }
        let database = SQLiteDatabase(connection: connection)
        do {
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"] {
                try await database.query(pragma, [])
            }
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    @discardableResult
    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await lock.withLock { try await run(sql, binds) }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws
        -> T
    {
        try await lock.withLock {
            _ = try await run("BEGIN IMMEDIATE", [])
            do {
                let result = try await body(Locked(database: self))
                _ = try await run("COMMIT", [])
                return result
            } catch {
                _ = try? await run("ROLLBACK", [])
                throw error
            }
        }
    }

    /// Closes the connection once the statement running now (if any) is done.
    public func close() async {
        await lock.withLock { connection.close() }
    }

    /// Runs a statement, with the lock held, on ``queue``.
    private func run(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try SQLValue.validate(binds)
        let connection = self.connection
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(
                    with: Result {
                        do {
                            return try connection.execute(sql, binds)
                        } catch let failure as SQLiteConnection.Failure {
                            throw Self.storeError(failure)
                        }
                    })
            }
        }
    }

    /// Executes inside a transaction that already holds the lock.
    private struct Locked: SQLExecutor {
        let database: SQLiteDatabase
        var dialect: SQLDialect { .sqlite }
        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try await database.run(sql, binds)
        }
    }

    private static func storeError(_ failure: SQLiteConnection.Failure) -> StoreError {
        let text = failure.message
        if failure.isConstraint { return StoreError(.constraint, text) }
        if failure.isBusy { return StoreError(.unavailable, "SQLite is busy: \(text)") }
        if text.localizedCaseInsensitiveContains("syntax") || text.localizedCaseInsensitiveContains("no such") {
            return StoreError(.invalidData, text)
        }
        return StoreError(.unavailable, text)
    }
}
