/// How the sandbox behaves: which faults it injects and how fast it answers. Adjustable at run time through
/// `POST /sandbox/faults`.
public struct SandboxFaults: Codable, Sendable, Hashable {
    /// Added to every API response (Gorgias and Twilio), in milliseconds.
    public var latencyMs: Int = 0
    /// Fraction of API requests answered with a 5xx (after nothing was changed).
    public var failRate: Double = 0
    /// Fraction of Gorgias requests answered 503 (Gorgias down while Twilio works: 1 fails every call).
    public var gorgiasFailRate: Double = 0
    /// The next N API requests are answered 429.
    public var burst429: Int = 0
    /// Every Nth API request stalls for ``stallMs`` before answering (0: never).
    public var stallEvery: Int = 0
    public var stallMs: Int = 2000
    /// Fraction of API requests whose connection is dropped mid-response, after the request took effect.
    public var dropRate: Double = 0
    /// Fraction of outgoing webhooks (integration events, status callbacks) delivered twice.
    public var duplicateWebhookRate: Double = 0
    /// Outgoing webhooks are delayed by a random time up to this, so they can arrive out of order.
    public var webhookJitterMs: Int = 0
    /// Fraction of SMS sends refused with 20429 (Twilio's concurrency limit).
    public var smsConcurrencyRefusalRate: Double = 0

    public init() {}

    /// Missing fields keep their defaults, so `POST /sandbox/faults {"failRate": 0.1}` is enough.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SandboxFaults()
        latencyMs = try container.decodeIfPresent(Int.self, forKey: .latencyMs) ?? defaults.latencyMs
        failRate = try container.decodeIfPresent(Double.self, forKey: .failRate) ?? defaults.failRate
        gorgiasFailRate = try container.decodeIfPresent(Double.self, forKey: .gorgiasFailRate) ?? defaults.gorgiasFailRate
        burst429 = try container.decodeIfPresent(Int.self, forKey: .burst429) ?? defaults.burst429
        stallEvery = try container.decodeIfPresent(Int.self, forKey: .stallEvery) ?? defaults.stallEvery
        stallMs = try container.decodeIfPresent(Int.self, forKey: .stallMs) ?? defaults.stallMs
        dropRate = try container.decodeIfPresent(Double.self, forKey: .dropRate) ?? defaults.dropRate
        duplicateWebhookRate = try container.decodeIfPresent(Double.self, forKey: .duplicateWebhookRate) ?? defaults.duplicateWebhookRate
        webhookJitterMs = try container.decodeIfPresent(Int.self, forKey: .webhookJitterMs) ?? defaults.webhookJitterMs
        smsConcurrencyRefusalRate = try container.decodeIfPresent(Double.self, forKey: .smsConcurrencyRefusalRate) ?? defaults.smsConcurrencyRefusalRate
    }
}

/// Start-up options of the sandbox (`switchboard sandbox …`).
public struct SandboxConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 0
    public var faults = SandboxFaults()
    /// Where to keep state across restarts (nil: memory only).
    public var stateFile: String?
    /// Pre-created Gorgias accounts: subdomain with API-key or OAuth credentials.
    public var gorgiasAccounts: [GorgiasAccountSeed] = []
    /// Pre-created Twilio accounts.
    public var twilioAccounts: [TwilioAccountSeed] = []
    /// Numbers whose messages fail delivery, with the error code their callbacks carry (e.g. 30003).
    public var undeliverable: [String: Int] = [:]
    /// Delay between a send and each of its status callbacks.
    public var callbackDelayMs = 50

    public init() {}
}

public struct GorgiasAccountSeed: Codable, Sendable, Hashable {
    public var subdomain: String
    public var email: String?
    public var apiKey: String?
    public var oauthToken: String?

    public init(subdomain: String, email: String? = nil, apiKey: String? = nil, oauthToken: String? = nil) {
        self.subdomain = subdomain
        self.email = email
        self.apiKey = apiKey
        self.oauthToken = oauthToken
    }
}

public struct TwilioAccountSeed: Codable, Sendable, Hashable {
    public var accountSid: String
    public var authToken: String

    public init(accountSid: String, authToken: String) {
        self.accountSid = accountSid
        self.authToken = authToken
    }
}
