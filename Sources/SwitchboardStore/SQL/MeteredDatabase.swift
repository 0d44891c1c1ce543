import Prometheus
import ServiceLifecycle
import SwitchboardObservability

/// A database that counts its statements and write transactions in the process's metrics
/// (`switchboard_store_statements_total`, `switchboard_store_transactions_total`), so a benchmark or an operator can
/// read the store round trips a record costs. A workers' store is wrapped in one; a counter is one atomic add.
struct MeteredDatabase: SQLDatabase {
    let inner: any SQLDatabase
    private let statements: Counter
    private let transactions: Counter

    init(_ inner: any SQLDatabase, metrics: LabeledMetrics) {
        self.inner = inner
        statements = metrics.counter(MetricCatalog.storeStatements, [])
        transactions = metrics.counter(MetricCatalog.storeTransactions, [])
    }

    var dialect: SQLDialect { inner.dialect }
    var services: [any Service] { inner.services }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        statements.increment()
        return try await inner.query(sql, binds)
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        transactions.increment()
        let statements = self.statements
        return try await inner.transaction { executor in
            try await body(CountingExecutor(inner: executor, statements: statements))
        }
    }

    func close() async { await inner.close() }

    /// A transaction's statements, each counted.
    private struct CountingExecutor: SQLExecutor {
        let inner: any SQLExecutor
        let statements: Counter
        var dialect: SQLDialect { inner.dialect }

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            statements.increment()
            return try await inner.query(sql, binds)
        }
    }
}
