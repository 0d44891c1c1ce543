import ServiceLifecycle

/// Runs SQL written with `?` placeholders (rewritten to `$n` for PostgreSQL). Values are always bound,
/// never interpolated into the text.
public protocol SQLExecutor: Sendable {
    var dialect: SQLDialect { get }
    /// Runs a statement and returns its rows (empty for statements without RETURNING).
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}

/// A database connection or pool that can run transactions.
public protocol SQLDatabase: SQLExecutor {
    /// Runs `body` in one transaction that takes the write lock up front (SQLite `BEGIN IMMEDIATE`,
    /// PostgreSQL `BEGIN` with row locks from the statements), committing if it returns, rolling back if it throws.
    /// (`body` escapes so a backend can run the transaction in a task it abandons at a deadline.)
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T
    func close() async
    /// Services that must run while the database is used (PostgreSQL's pool); none by default.
    var services: [any Service] { get }
}

extension SQLDatabase {
    public var services: [any Service] { [] }
}

extension SQLExecutor {
    @discardableResult
    public func query(_ sql: String, _ binds: any SQLBindable...) async throws -> [SQLRow] {
        try await query(sql, binds.map(\.sqlValue))
    }
}

/// The few places where SQLite and PostgreSQL SQL differ.
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres

    /// The smaller of two expressions.
    public func least(_ a: String, _ b: String) -> String {
        self == .sqlite ? "min(\(a), \(b))" : "LEAST(\(a), \(b))"
    }

    /// The larger of two expressions.
    public func greatest(_ a: String, _ b: String) -> String {
        self == .sqlite ? "max(\(a), \(b))" : "GREATEST(\(a), \(b))"
    }

    /// Row lock for a read-then-write inside a transaction (SQLite's `BEGIN IMMEDIATE` already holds the lock).
    public var forUpdate: String { self == .postgres ? " FOR UPDATE" : "" }

    /// Rewrites `?` placeholders to `$1…$n` for PostgreSQL.
    func placeholders(_ sql: String) -> String {
        guard self == .postgres else { return sql }
        var result = ""
        result.reserveCapacity(sql.count + 16)
        var index = 0
        for character in sql {
            if character == "?" {
                index += 1
                result += "$\(index)"
            } else {
                result.append(character)
            }
        }
        return result
    }
}
