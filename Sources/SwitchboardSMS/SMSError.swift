import SwitchboardBase
import SwitchboardHTTP
import SwitchboardJSON

/// A refusal from the SMS API (`{"code", "message", "more_info", "status"}`, or RFC 9457's `detail`), classified.
public struct SMSError: Error, CustomStringConvertible, Sendable, ClassifiedError {
    public var status: Int
    /// The provider's error code (21610, 21211…), when given.
    public var code: Int?
    public var message: String
    public var retryAfter: Duration?

    public init(status: Int, code: Int?, message: String, retryAfter: Duration? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String {
        "SMS provider refused: HTTP \(status)\(code.map { " code \($0)" } ?? "") \(message)"
    }

    /// The recipient opted out at the provider (21610): never retried; the subscriber becomes unsubscribed.
    public var isOptOut: Bool { code.map(SMSErrorCodes.optOutCodes.contains) ?? false }

    public var processingFailure: ProcessingFailure {
        // Twilio's own codes for the statuses it does not always send: 20429 (too many requests), 20003 (authentication).
        let refusal = code == 20429 ? .throttled : code == 20003 ? .unauthorized : APIRefusal(status: status)
        return refusal.failure(
            service: .sms, status: status, description: description, retryAfter: retryAfter,
            rejectedDetail: "rejected_\(code ?? status)")
    }

    static func from(_ response: APIResponse) -> SMSError {
        let body = try? JSONParser.parse(response.body)
        let code = body?["code"]?.intValue.map(Int.init)
        let message = body?["message"]?.stringValue ?? body?["detail"]?.stringValue ?? "HTTP \(response.status)"
        return SMSError(
            status: response.status, code: code, message: String(message.prefix(300)), retryAfter: response.retryAfter)
    }
}
