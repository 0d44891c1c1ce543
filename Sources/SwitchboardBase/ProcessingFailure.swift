/// How a failed attempt at handling an event should be treated (architecture §3, Failures).
public struct ProcessingFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Timeouts, connection errors, 5xx, 429: retried in place, then through the retry tiers.
        case transient
        /// Nothing retrying can fix (invalid record, a 4xx, unknown account): straight to the DLQ.
        case permanent
        /// Not a failure of the record: the account's rate budget is spent (wait `retryAfter`), or a provider refused
        /// the account's credentials (wait until they are fixed); the merchant waits, never toward the DLQ.
        case throttled
    }

    /// External systems whose outage for everyone opens the circuit.
    public enum Dependency: String, Sendable, Hashable, CaseIterable {
        case gorgias, sms, store, kafka
    }

    public var kind: Kind
    /// A short stable identifier for filtering, e.g. `gorgias.http_503`, `event.schema_invalid`.
    public var errorClass: String
    /// A human reason. Never contains secrets or message bodies.
    public var message: String
    public var retryAfter: Duration?
    public var dependency: Dependency?
    public var accountId: String?

    public init(
        _ kind: Kind,
        _ errorClass: String,
        _ message: String,
        retryAfter: Duration? = nil,
        dependency: Dependency? = nil,
        accountId: String? = nil
    ) {
        self.kind = kind
        self.errorClass = errorClass
        self.message = message
        self.retryAfter = retryAfter
        self.dependency = dependency
        self.accountId = accountId
    }

    public var description: String { "\(errorClass): \(message)" }

    /// The dependency that refused the account's credentials (a 401 or 403), if that is this failure.
    public var refusedCredentials: Dependency? {
        kind == .throttled && errorClass.hasSuffix(".unauthorized") ? dependency : nil
    }

    public static func transient(
        _ errorClass: String, _ message: String, dependency: Dependency? = nil, retryAfter: Duration? = nil
    ) -> ProcessingFailure {
        ProcessingFailure(.transient, errorClass, message, retryAfter: retryAfter, dependency: dependency)
    }

    public static func permanent(_ errorClass: String, _ message: String) -> ProcessingFailure {
        ProcessingFailure(.permanent, errorClass, message)
    }
}

/// Errors from Switchboard's clients and store classify themselves; anything else is treated as transient
/// (bounded retries, then the DLQ) so an unexpected bug never silently drops an event.
public protocol ClassifiedError: Error {
    var processingFailure: ProcessingFailure { get }
}

extension ProcessingFailure {
    /// Classifies any error thrown by a handler.
    public static func classify(_ error: any Error) -> ProcessingFailure {
        switch error {
        case let failure as ProcessingFailure: return failure
        case let classified as any ClassifiedError: return classified.processingFailure
        default:
            return .transient(
                "unexpected", String(describing: type(of: error)) + ": " + String(String(describing: error).prefix(300))
            )
        }
    }
}
