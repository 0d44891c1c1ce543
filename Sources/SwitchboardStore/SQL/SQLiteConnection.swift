internal import CSQLite3

/// One libsqlite3 connection and its prepared statements, each parsed once and kept for the connection's life.
/// Not thread-safe: its owner (``SQLiteDatabase``) serializes every call.
final class SQLiteConnection: @unchecked Sendable {
    /// A failed call: SQLite's primary result code and its message.
    struct Failure: Error {
        var code: Int32
        var message: String

        /// Another connection held the lock this statement needed for longer than the busy timeout.
        var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }
        var isConstraint: Bool { code == SQLITE_CONSTRAINT }
    }

    /// How long a statement waits for another process's lock.
    static let busyTimeoutMilliseconds: Int32 = 15_000
    /// Statements kept prepared; beyond it the cache starts over (the store's SQL is a fixed set of texts).
    static let cachedStatements = 256

    private struct Prepared {
        var statement: OpaquePointer
        var columnNames: [String]
    }

    private var handle: OpaquePointer?
    private var prepared: [String: Prepared] = [:]

    /// Opens (creating if needed) the database file at `path`.
    init(path: String) throws {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            handle = nil
            throw Failure(code: code, message: message)
        }
        sqlite3_extended_result_codes(handle, 0)
        sqlite3_busy_timeout(handle, Self.busyTimeoutMilliseconds)
    }

    /// Runs one statement and returns its rows, waiting up to ``busyTimeoutMilliseconds`` on this thread for a lock
    /// another process holds.
    func execute(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        guard let handle else { throw Failure(code: SQLITE_MISUSE, message: "the SQLite connection is closed") }
        guard let entry = try statement(sql, handle) else { return [] }
        let statement = entry.statement
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in binds.enumerated() {
            let code = Self.bind(value, to: statement, at: Int32(offset + 1))
            guard code == SQLITE_OK else { throw failure(code, handle) }
        }
        var rows: [SQLRow] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw failure(code, handle) }
            var columns: [String: SQLValue] = [:]
            columns.reserveCapacity(entry.columnNames.count)
            for (index, name) in entry.columnNames.enumerated() where columns[name] == nil {
                columns[name] = Self.value(statement, Int32(index))
            }
            rows.append(SQLRow(columns: columns))
        }
    }

    /// Finalizes every statement and closes the connection; later calls fail.
    func close() {
        for entry in prepared.values { sqlite3_finalize(entry.statement) }
        prepared.removeAll()
        sqlite3_close_v2(handle)
        handle = nil
    }

    /// The prepared statement for `sql` (nil for a text with no statement), prepared now if it is new.
    private func statement(_ sql: String, _ handle: OpaquePointer) throws -> Prepared? {
        if let cached = prepared[sql] { return cached }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK else { throw failure(code, handle) }
        guard let statement else { return nil }
        let names = (0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_name(statement, $0)) }
        if prepared.count >= Self.cachedStatements {
            for entry in prepared.values { sqlite3_finalize(entry.statement) }
            prepared.removeAll()
        }
        let entry = Prepared(statement: statement, columnNames: names)
        prepared[sql] = entry
        return entry
    }

    private func failure(_ code: Int32, _ handle: OpaquePointer) -> Failure {
        Failure(code: code & 0xFF, message: String(cString: sqlite3_errmsg(handle)))
    }

    private static func bind(_ value: SQLValue, to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch value {
        case .null:
            return sqlite3_bind_null(statement, index)
        case .integer(let int):
            return sqlite3_bind_int64(statement, index, int)
        case .double(let double):
            return sqlite3_bind_double(statement, index, double)
        case .text(let text):
            var text = text
            return text.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) {
                    sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count), sb_sqlite_transient())
                }
            }
        case .blob(let bytes):
            guard !bytes.isEmpty else { return sqlite3_bind_zeroblob(statement, index, 0) }
            return bytes.withUnsafeBytes {
                sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), sb_sqlite_transient())
            }
        }
    }

    private static func value(_ statement: OpaquePointer, _ index: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT:
            return .double(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let text = sqlite3_column_text(statement, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let blob = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: blob, count: count)))
        default:
            return .null
        }
    }
}
