import Foundation
import Logging
import NIOCore
import SQLiteNIO
import SwitchboardBase

/// SQLite through sqlite-nio (SQLite calls run on NIO's thread pool, never the cooperative pool).
///
/// WAL mode lets readers and one writer proceed together; several worker processes may share the file:
/// writers serialize through SQLite's lock (`BEGIN IMMEDIATE`, waiting up to the busy timeout). Within a process
/// one connection is shared behind an async lock.
public final class SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    private let connection: SQLiteConnection
    private let lock = AsyncLock()

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Opens (creating if needed) the database file at `path`.
    public static func open(path: String, logger: Logger) async throws -> SQLiteDatabase {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw StoreError(.unavailable, "cannot open SQLite database \(path): \(error)")
        }
        let database = SQLiteDatabase(connection: connection)
        // The busy timeout first: switching to WAL takes a lock that another process opening the file may hold.
        do {
            for pragma in [
                "PRAGMA busy_timeout=15000", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                "PRAGMA foreign_keys=ON",
            ] {
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

    /// Closes the connection, also from a cancelled task: sqlite-nio skips work submitted by one, which would leave
    /// the connection open.
    public func close() async {
        let connection = self.connection
        await Task.detached { try? await connection.close() }.value
    }

    private func run(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try SQLValue.validate(binds)
        do {
            let rows = try await connection.query(sql, binds.map(Self.sqliteData))
            return rows.map { row in
                SQLRow(
                    columns: Dictionary(
                        row.columns.map { ($0.name, Self.value($0.data)) }, uniquingKeysWith: { first, _ in first }))
            }
        } catch let error as SQLiteError {
            throw Self.storeError(error)
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

    private static func sqliteData(_ value: SQLValue) -> SQLiteData {
        switch value {
        case .null: .null
        case .integer(let int): .integer(SQLiteInt64(int))
        case .double(let double): .float(double)
        case .text(let text): .text(text)
        case .blob(let bytes): .blob(ByteBuffer(bytes: bytes))
        }
    }

    private static func value(_ data: SQLiteData) -> SQLValue {
        switch data {
        case .null: .null
        case .integer(let int): .integer(Int64(int))
        case .float(let double): .double(double)
        case .text(let text): .text(text)
        case .blob(var buffer): .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
        }
    }

    private static func storeError(_ error: SQLiteError) -> StoreError {
        let text = error.description
        if text.localizedCaseInsensitiveContains("constraint") { return StoreError(.constraint, text) }
        if text.localizedCaseInsensitiveContains("busy") || text.localizedCaseInsensitiveContains("locked") {
            return StoreError(.unavailable, "SQLite is busy: \(text)")
        }
        if text.localizedCaseInsensitiveContains("syntax") || text.localizedCaseInsensitiveContains("no such") {
            return StoreError(.invalidData, text)
        }
        return StoreError(.unavailable, text)
    }
}
