import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import SwitchboardBase

/// PostgreSQL through postgres-nio's pooled client. The client is a `Service` that must run (see ``runService``)
/// for queries to be served; the store's owner adds it to its service group.
public final class PostgresDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    public let client: PostgresClient
    private let logger: Logger

    public init(configuration: PostgresClient.Configuration, logger: Logger) {
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
    }

    /// The connection pool, which serves queries only while it runs.
    public var services: [any Service] { [client] }

    /// Serves the connection pool until cancelled.
    public func runService() async {
        await client.run()
    }

    @discardableResult
    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try SQLValue.validate(binds)
        let query = Self.postgresQuery(sql, binds, dialect: dialect)
        return try await withinDeadline { [client, logger] in
            do {
                return try await client.withConnection { connection in
                    try await Connection(connection: connection, logger: logger).run(query)
                }
            } catch {
                throw Self.storeError(error)  // the pool's own errors (a lease that failed) become StoreErrors too
            }
        }
    }

    /// BEGIN, `body`, COMMIT on one pooled connection; ROLLBACK when `body` throws and the connection is still open.
    /// (postgres-nio's own `withTransaction` writes ROLLBACK to a connection the server has just closed, and a
    /// statement written to a closed connection never completes.) Errors from `body` pass through unchanged.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws
        -> T
    {
        try await withinDeadline { [client, logger] in
            do {
                return try await client.withConnection { connection in
                    let executor = Connection(connection: connection, logger: logger)
                    _ = try await executor.run("BEGIN")
                    let result: T
                    do {
                        result = try await body(executor)
                    } catch {
                        if !connection.isClosed { _ = try? await executor.run("ROLLBACK") }
                        throw BodyError(error: error)
                    }
                    _ = try await executor.run("COMMIT")
                    return result
                }
            } catch let failed as BodyError {
                throw failed.error
            } catch {
                throw Self.storeError(error)  // BEGIN, COMMIT and the pool's own errors
            }
        }
    }

    /// An error thrown by a transaction's body, kept apart from the pool's and the connection's.
    private struct BodyError: Error {
        let error: any Error
    }

    /// Every call, waiting for a pooled connection included, ends within ``callTimeout``. postgres-nio 1.33 can
    /// hand out a connection the server closed a moment ago, and a statement written to it never completes; the
    /// check in ``Connection/run(_:)`` narrows that window and this deadline closes it: the caller gets a retryable
    /// `unavailable` error and the abandoned statement is left behind. The server-side limits (``sessionLimits``)
    /// end a slow statement well before this.
    private func withinDeadline<T: Sendable>(_ call: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = Self.callTimeout
        return try await withDeadline(
            timeout,
            timeoutError: {
                StoreError(
                    .unavailable, "PostgreSQL did not answer within \(timeout) (connection lost or pool exhausted)")
            }, call)
    }

    /// The longest one store call (or one transaction) may take, waiting for a pooled connection included.
    public static let callTimeout: Duration = .seconds(15)

    /// Server-side limits set on every connection: no statement, lock wait or idle open transaction outlives them.
    public static let sessionLimits: [(String, String)] = [
        ("statement_timeout", "10s"), ("lock_timeout", "5s"), ("idle_in_transaction_session_timeout", "30s"),
    ]

    public func close() async {}

    /// One leased connection: every statement of a call or a transaction runs through it.
    private struct Connection: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger
        var dialect: SQLDialect { .postgres }

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try SQLValue.validate(binds)
            return try await run(PostgresDatabase.postgresQuery(sql, binds, dialect: .postgres))
        }

        func run(_ query: PostgresQuery) async throws -> [SQLRow] {
            guard !connection.isClosed else { throw StoreError(.unavailable, "PostgreSQL closed the connection") }
            do {
                return try await PostgresDatabase.collect(try await connection.query(query, logger: logger))
            } catch {
                throw PostgresDatabase.storeError(error)
            }
        }
    }

    static func postgresQuery(_ sql: String, _ binds: [SQLValue], dialect: SQLDialect) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let int): bindings.append(int)
            case .double(let double): bindings.append(double)
            case .text(let text): bindings.append(text)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        return PostgresQuery(unsafeSQL: dialect.placeholders(sql), binds: bindings)
    }

    static func collect(_ rows: PostgresRowSequence) async throws -> [SQLRow] {
        var result: [SQLRow] = []
        for try await row in rows {
            var columns: [String: SQLValue] = [:]
            for cell in row {
                columns[cell.columnName] = try value(cell)
            }
            result.append(SQLRow(columns: columns))
        }
        return result
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .double(try cell.decode(Double.self))
        case .numeric: return .double(Double(try cell.decode(String.self)) ?? 0)
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea:
            var buffer = try cell.decode(ByteBuffer.self)
            return .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
        default: return .text(try cell.decode(String.self))
        }
    }

    static func storeError(_ error: any Error) -> StoreError {
        if let storeError = error as? StoreError { return storeError }
        if let psql = error as? PSQLError {
            if let state = psql.serverInfo?[.sqlState] {
                let message = psql.serverInfo?[.message] ?? "server error"
                if state.hasPrefix("23") { return StoreError(.constraint, "\(state): \(message)") }
                // 22 data exception, 42 syntax/access, 54 program limit exceeded: retrying cannot help.
                if state.hasPrefix("42") || state.hasPrefix("22") || state.hasPrefix("54") {
                    return StoreError(.invalidData, "\(state): \(message)")
                }
                return StoreError(.unavailable, "\(state): \(message)")
            }
            return StoreError(.unavailable, "PostgreSQL unreachable: \(psql.code)")
        }
        // Connection-level errors (the pool's, NIO's) name what failed with connecting, never the URL or a password.
        return StoreError(.unavailable, "PostgreSQL: \(type(of: error)): \(String(describing: error).prefix(200))")
    }
}
