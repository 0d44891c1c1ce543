import Foundation

/// A Gorgias API error response (`{"error": {"msg": …}}`), classified for the runtime.
public struct GorgiasError: Error, CustomStringConvertible, Sendable, ClassifiedError {
    public var status: Int
    /// Gorgias' message (never includes credentials).
    public var message: String
    public var retryAfter: Duration?
    /// What the client was doing, e.g. `create ticket`.
    public var operation: String

    public init(status: Int, message: String, retryAfter: Duration? = nil, operation: String) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
        self.operation = operation
    }

    public var description: String { "Gorgias \(operation) failed: HTTP \(status) \(message)" }

    public var isNotFound: Bool { status == 404 }

    public var processingFailure: ProcessingFailure {
        switch status {
        case 429:
            return ProcessingFailure(.throttled, "gorgias.rate_limited", description, retryAfter: retryAfter ?? .seconds(1))
        case 500...:
            return ProcessingFailure(.transient, "gorgias.http_\(status)", description, retryAfter: retryAfter, dependency: .gorgias)
        case 401, 403:
            // One account's credentials: retried through the tiers (an operator can fix them), never opens the circuit.
            return ProcessingFailure(.transient, "gorgias.unauthorized", description)
        case 408:
            return ProcessingFailure(.transient, "gorgias.http_408", description, dependency: .gorgias)
        default:
            return ProcessingFailure(.permanent, "gorgias.http_\(status)", description)
        }
    }

    /// Reads Gorgias' error body; falls back to the status line.
    static func from(_ response: HTTPResponse, operation: String) -> GorgiasError {
        let message = (try? JSONParser.parse(response.body))?["error"]?["msg"]?.stringValue ?? "HTTP \(response.status)"
        return GorgiasError(status: response.status, message: String(message.prefix(300)), retryAfter: response.retryAfter, operation: operation)
    }
}
