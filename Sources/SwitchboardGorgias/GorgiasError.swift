import Foundation
import SwitchboardBase
import SwitchboardHTTP
import SwitchboardJSON

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

    /// Gorgias no longer has it: 404 (deleted), or a redirect Switchboard could not follow (a merge whose
    /// `Location` is missing, on another host, or one of more than three in a row).
    public var isGone: Bool { status == 404 || Redirect.isRedirect(status) }

    public var processingFailure: ProcessingFailure {
        APIRefusal(status: status).failure(
            service: .gorgias, status: status, description: description, retryAfter: retryAfter)
    }

    /// Reads Gorgias' error body; falls back to the status line.
    static func from(_ response: APIResponse, operation: String) -> GorgiasError {
        let message = (try? JSONParser.parse(response.body))?["error"]?["msg"]?.stringValue ?? "HTTP \(response.status)"
        return GorgiasError(
            status: response.status, message: String(message.prefix(300)), retryAfter: response.retryAfter,
            operation: operation)
    }
}
