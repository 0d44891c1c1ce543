import SwitchboardBase

/// What an HTTP status from a provider's API means for the runtime: one table for every client (Gorgias, the SMS
/// provider), so the two cannot drift apart.
public enum APIRefusal: Sendable, Hashable {
    /// 429, or a provider's own rate-limit code: wait and try again; not a failure.
    case throttled
    /// 5xx and 408: the provider is in trouble; retried, and counted toward its circuit.
    case unavailable
    /// 401 and 403: this account's credentials. The merchant's records wait (like a spent budget, never toward the
    /// DLQ or the circuit) until an operator fixes them; one record tries again now and then.
    case unauthorized
    /// Any other status: retrying the same request cannot help.
    case rejected

    public init(status: Int) {
        switch status {
        case 429: self = .throttled
        case 408, 500...: self = .unavailable
        case 401, 403: self = .unauthorized
        default: self = .rejected
        }
    }

    /// The failure for `service`'s refusal: error class `<service>.rate_limited`, `<service>.unauthorized`,
    /// `<service>.http_<status>`, or `<service>.<rejectedDetail>` for a rejection.
    public func failure(
        service: ProcessingFailure.Dependency, status: Int, description: String, retryAfter: Duration?,
        rejectedDetail: String? = nil
    ) -> ProcessingFailure {
        let name = service.rawValue
        switch self {
        case .throttled:
            return ProcessingFailure(
                .throttled, "\(name).rate_limited", description, retryAfter: retryAfter ?? .seconds(1))
        case .unavailable:
            return ProcessingFailure(
                .transient, "\(name).http_\(status)", description, retryAfter: retryAfter, dependency: service)
        case .unauthorized:
            return ProcessingFailure(.throttled, "\(name).unauthorized", description, dependency: service)
        case .rejected:
            return ProcessingFailure(.permanent, "\(name).\(rejectedDetail ?? "http_\(status)")", description)
        }
    }
}
