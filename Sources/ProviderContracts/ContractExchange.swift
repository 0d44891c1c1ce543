/// One call to a provider's API and the answer it got, as the sandbox served it: what the contract checks.
public struct ContractExchange: Sendable {
    /// Which published contract the call falls under.
    public enum API: String, Sendable {
        /// Gorgias' REST API, `https://{subdomain}.gorgias.com/api/…`.
        case gorgias
        /// Twilio's 2010-04-01 API, `https://api.twilio.com/2010-04-01/…`.
        case twilio
        /// Twilio's Messaging v1 API, `https://messaging.twilio.com/v1/…`.
        case twilioMessaging
    }

    public var api: API
    public var method: String
    /// The path as the provider names it: `/api/tickets/12/messages`, `/2010-04-01/Accounts/AC…/Messages.json`.
    public var path: String
    public var query: [(String, String)]
    public var requestHeaders: [(String, String)]
    public var requestBody: [UInt8]
    public var status: Int
    public var responseHeaders: [(String, String)]
    public var responseBody: [UInt8]

    public init(
        api: API, method: String, path: String, query: [(String, String)] = [],
        requestHeaders: [(String, String)] = [], requestBody: [UInt8] = [], status: Int,
        responseHeaders: [(String, String)] = [], responseBody: [UInt8] = []
    ) {
        self.api = api
        self.method = method
        self.path = path
        self.query = query
        self.requestHeaders = requestHeaders
        self.requestBody = requestBody
        self.status = status
        self.responseHeaders = responseHeaders
        self.responseBody = responseBody
    }

    /// `POST /api/tickets → 201`, for a drift's message (never a body: bodies hold customers' texts).
    public var summary: String { "\(api.rawValue) \(method) \(path) → \(status)" }

    /// The last value of a request or response header, compared case-insensitively.
    static func header(_ name: String, in headers: [(String, String)]) -> String? {
        let lowered = name.lowercased()
        return headers.last { $0.0.lowercased() == lowered }?.1
    }
}

/// A webhook a provider sends (Twilio's inbound-message and status callbacks), as the sandbox delivered it.
public struct ContractWebhook: Sendable {
    public enum Kind: String, Sendable {
        case twilioInbound = "twilio inbound"
        case twilioStatus = "twilio status"
    }

    public var kind: Kind
    public var parameters: [(String, String)]

    public init(kind: Kind, parameters: [(String, String)]) {
        self.kind = kind
        self.parameters = parameters
    }
}

/// Something an exchange did that the contract does not allow.
public struct ContractDrift: Sendable, CustomStringConvertible, Hashable {
    /// The exchange (`gorgias POST /api/tickets → 201`), never its body.
    public var exchange: String
    public var problem: String

    public var description: String { "\(exchange): \(problem)" }

    public init(exchange: String, problem: String) {
        self.exchange = exchange
        self.problem = problem
    }
}
