import SwitchboardBase

/// A store failure. Connection-level problems are transient (the store is a dependency the circuit breaker
/// watches); constraint and data problems are permanent.
public struct StoreError: Error, CustomStringConvertible, Sendable, ClassifiedError {
    public enum Code: String, Sendable {
        case unavailable
        case constraint
        case invalidData = "invalid_data"
        case schemaTooNew = "schema_too_new"
        case configuration
        case notFound = "not_found"
    }

    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "store \(code.rawValue): \(reason)" }

    public var isRetriable: Bool { code == .unavailable }

    public var processingFailure: ProcessingFailure {
        ProcessingFailure(
            isRetriable ? .transient : .permanent, "store.\(code.rawValue)", reason,
            dependency: isRetriable ? .store : nil)
    }
}

/// Limits the store enforces itself, identically on both backends.
enum StoreLimits {
    /// Identifiers that are keys (event ids, groups, record keys, effect keys) stay indexable everywhere.
    static let identifierBytes = 1024

    static func identifier(_ value: String, _ what: String) throws {
        guard value.utf8.count <= identifierBytes else {
            throw StoreError(.invalidData, "\(what) is \(value.utf8.count) bytes; the limit is \(identifierBytes)")
        }
    }
}
