import ServiceLifecycle
import Tracing

/// A database whose statements and transactions are spans, named by their first SQL word and carrying the
/// statement's text (values are bound, never in the text), as children of the record attempt or webhook around them:
/// work with no trace around it, such as the janitor's, is not traced. The store wraps its database in one only while
/// tracing is on.
struct TracedDatabase: SQLDatabase {
    let inner: any SQLDatabase

    init(_ inner: any SQLDatabase) { self.inner = inner }

    var dialect: SQLDialect { inner.dialect }
    var services: [any Service] { inner.services }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await Self.statementSpan(sql, dialect: dialect) { try await inner.query(sql, binds) }
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        let dialect = self.dialect
        guard ServiceContext.current != nil else { return try await inner.transaction(body) }
        return try await withSpan("store transaction", ofKind: .client) { span in
            span.attributes["db.system.name"] = dialect.systemName
            return try await inner.transaction { executor in try await body(TracedExecutor(inner: executor)) }
        }
    }

    func close() async { await inner.close() }

    /// A transaction's statements, each a span.
    struct TracedExecutor: SQLExecutor {
        let inner: any SQLExecutor
        var dialect: SQLDialect { inner.dialect }

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try await TracedDatabase.statementSpan(sql, dialect: dialect) { try await inner.query(sql, binds) }
        }
    }

    static func statementSpan(_ sql: String, dialect: SQLDialect, _ run: () async throws -> [SQLRow]) async throws
        -> [SQLRow]
    {
        guard ServiceContext.current != nil else { return try await run() }  // only as a child of a record or webhook
        let operation = sql.drop { $0.isWhitespace }.prefix { !$0.isWhitespace }.uppercased()
        return try await withSpan("store \(operation)", ofKind: .client) { span in
            span.attributes["db.system.name"] = dialect.systemName
            span.attributes["db.operation.name"] = operation
            span.attributes["db.query.text"] = String(sql.prefix(300))
            return try await run()
        }
    }
}

extension SQLDialect {
    /// The database system as OpenTelemetry names it (`db.system.name`).
    fileprivate var systemName: String { self == .sqlite ? "sqlite" : "postgresql" }
}
