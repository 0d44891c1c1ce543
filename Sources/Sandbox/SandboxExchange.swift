/// One call the sandbox served as a provider's API, or a webhook it sent as one: what a test hands to the providers'
/// contracts (`ProviderContracts`) to check both sides against the published documents.
public enum SandboxObservation: Sendable {
    case exchange(SandboxExchange)
    case webhook(SandboxWebhook)
}

/// An API call and the answer the sandbox gave, with the path as the provider names it (`/api/tickets/5`,
/// `/2010-04-01/Accounts/AC…/Messages.json`, `/v1/Services`).
public struct SandboxExchange: Sendable {
    public enum API: String, Sendable {
        case gorgias, twilio, twilioMessaging
    }

    public var api: API
    public var method: String
    public var path: String
    public var query: [(String, String)]
    public var requestHeaders: [(String, String)]
    public var requestBody: [UInt8]
    public var status: Int
    public var responseHeaders: [(String, String)]
    public var responseBody: [UInt8]
}

/// A webhook the sandbox delivered (or tried to) as Twilio.
public struct SandboxWebhook: Sendable {
    public enum Kind: String, Sendable {
        case twilioInbound, twilioStatus
    }

    public var kind: Kind
    public var url: String
    public var parameters: [(String, String)]
}
