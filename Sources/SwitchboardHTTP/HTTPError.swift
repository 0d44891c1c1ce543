/// A request that produced no complete HTTP response (a status, even 5xx, is not an ``HTTPError``).
public struct HTTPError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case timeout
        /// Refused, reset, dropped mid-response, DNS failure…
        case connection
        case tls
        /// A response larger than the client accepts.
        case tooLarge = "too_large"
        /// The request itself is unusable (bad URL, unsupported scheme).
        case invalidRequest = "invalid_request"
        case cancelled
    }

    public var kind: Kind
    /// libcurl's message (never contains credentials: they travel in headers, which curl does not echo).
    public var reason: String
    public var service: String

    public init(kind: Kind, reason: String, service: String) {
        self.kind = kind
        self.reason = reason
        self.service = service
    }

    public var description: String { "\(service) HTTP \(kind.rawValue): \(reason)" }

    /// Retrying may help: timeouts and connection or TLS handshake trouble.
    public var isRetriable: Bool {
        switch kind {
        case .timeout, .connection, .tls: true
        case .tooLarge, .invalidRequest, .cancelled: false
        }
    }
}
