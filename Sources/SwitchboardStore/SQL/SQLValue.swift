/// A value bound into or read from SQL, the common ground of SQLite and PostgreSQL.
/// Times are stored as integer milliseconds since 1970, booleans as 0/1, so both backends compare them alike.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])

    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .double(let value): Int64(value)
        case .text(let value): Int64(value)
        default: nil
        }
    }

    public var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        case .text(let value): Double(value)
        default: nil
        }
    }

    public var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Refuses values neither backend stores faithfully: PostgreSQL rejects NUL in text, SQLite truncates it on read.
    static func validate(_ binds: [SQLValue]) throws {
        for case .text(let text) in binds where text.utf8.contains(0) {
            throw StoreError(.invalidData, "text values may not contain NUL characters")
        }
    }
}

/// One result row, by column name.
public struct SQLRow: Sendable {
    public var columns: [String: SQLValue]

    public init(columns: [String: SQLValue]) {
        self.columns = columns
    }

    public subscript(_ name: String) -> SQLValue { columns[name] ?? .null }
}

/// Converts Swift values to ``SQLValue`` for binds.
public protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .double(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }

extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}
