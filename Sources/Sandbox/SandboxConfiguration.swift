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
    /// Twilio's sender queue: messages leave each sender (number or messaging service) at this rate, staying
    /// `queued` (with `date_sent` null) until their turn; status callbacks follow. A long code sends about one segment
    /// per second. 0: no queue.
    public var smsPerSecondPerSender: Double = 1
    /// Every message also stays queued at least this long.
    public var smsMinimumQueuedMs: Int = 0
    /// The next N `Messages.json` creates take effect but their response is lost (the connection drops).
    public var dropNextSMSCreates: Int = 0
    /// The next N `Messages.json` creates are answered 503 before anything happens.
    public var failNextSMSCreates: Int = 0
    /// Gorgias list filters the sandbox ignores, as a real account might (contracts/gorgias/operations.json marks `channel_address`
    /// and the ticket `external_id` filter third-party knowledge): `channel_address`, `external_id`, `email`.
    public var ignoredListFilters: [String] = []
    /// Whether a customer message reopens a closed ticket by itself (unsure in Gorgias' documents; off, so
    /// Switchboard's own reopen is what the tests see).
    public var customerMessageReopens: Bool = false
    /// Seconds added to the sandbox Gorgias' clock (its `*_datetime` stamps), to test a worker whose clock is off.
    public var gorgiasClockOffsetSeconds: Double = 0
    /// Lifetime of the OAuth access tokens `/oauth/token` grants (Gorgias: 24 hours).
    public var oauthTokenLifetimeSeconds: Double = 86_400
    /// The consent screen approves at once (a redirect back with a code) instead of showing Allow and Deny links.
    public var oauthAutoApprove: Bool = true
    /// A refresh returns a new refresh token and invalidates the old one (whether Gorgias rotates is unknown; this
    /// is the less kind reading).
    public var oauthRotatesRefreshTokens: Bool = true
    /// HTTP integrations are rendered with an `event` variable (`{{event.type}}`, `{{event.id}}`). Off by default:
    /// Gorgias' reference documents only the ticket and message variables (contracts/gorgias/schemas/
    /// integration-http.schema.json), so the strict reading renders `{{event.…}}` empty.
    public var integrationEventContext: Bool = false
    /// Gorgias keeps a new HTTP integration but none of its triggers (as it might with keys it does not know): the
    /// integration would never send anything.
    public var dropIntegrationTriggers: Bool = false

    public init() {}

    /// Missing fields keep their defaults, so `POST /sandbox/faults {"failRate": 0.1}` is enough.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SandboxFaults()
        latencyMs = try container.decodeIfPresent(Int.self, forKey: .latencyMs) ?? defaults.latencyMs
        failRate = try container.decodeIfPresent(Double.self, forKey: .failRate) ?? defaults.failRate
        gorgiasFailRate =
            try container.decodeIfPresent(Double.self, forKey: .gorgiasFailRate) ?? defaults.gorgiasFailRate
        burst429 = try container.decodeIfPresent(Int.self, forKey: .burst429) ?? defaults.burst429
        stallEvery = try container.decodeIfPresent(Int.self, forKey: .stallEvery) ?? defaults.stallEvery
        stallMs = try container.decodeIfPresent(Int.self, forKey: .stallMs) ?? defaults.stallMs
        dropRate = try container.decodeIfPresent(Double.self, forKey: .dropRate) ?? defaults.dropRate
        duplicateWebhookRate =
            try container.decodeIfPresent(Double.self, forKey: .duplicateWebhookRate) ?? defaults.duplicateWebhookRate
        webhookJitterMs = try container.decodeIfPresent(Int.self, forKey: .webhookJitterMs) ?? defaults.webhookJitterMs
        smsConcurrencyRefusalRate =
            try container.decodeIfPresent(Double.self, forKey: .smsConcurrencyRefusalRate)
            ?? defaults.smsConcurrencyRefusalRate
        smsPerSecondPerSender =
            try container.decodeIfPresent(Double.self, forKey: .smsPerSecondPerSender) ?? defaults.smsPerSecondPerSender
        smsMinimumQueuedMs =
            try container.decodeIfPresent(Int.self, forKey: .smsMinimumQueuedMs) ?? defaults.smsMinimumQueuedMs
        dropNextSMSCreates =
            try container.decodeIfPresent(Int.self, forKey: .dropNextSMSCreates) ?? defaults.dropNextSMSCreates
        failNextSMSCreates =
            try container.decodeIfPresent(Int.self, forKey: .failNextSMSCreates) ?? defaults.failNextSMSCreates
        ignoredListFilters =
            try container.decodeIfPresent([String].self, forKey: .ignoredListFilters) ?? defaults.ignoredListFilters
        customerMessageReopens =
            try container.decodeIfPresent(Bool.self, forKey: .customerMessageReopens) ?? defaults.customerMessageReopens
        gorgiasClockOffsetSeconds =
            try container.decodeIfPresent(Double.self, forKey: .gorgiasClockOffsetSeconds)
            ?? defaults.gorgiasClockOffsetSeconds
        oauthTokenLifetimeSeconds =
            try container.decodeIfPresent(Double.self, forKey: .oauthTokenLifetimeSeconds)
            ?? defaults.oauthTokenLifetimeSeconds
        oauthAutoApprove =
            try container.decodeIfPresent(Bool.self, forKey: .oauthAutoApprove) ?? defaults.oauthAutoApprove
        oauthRotatesRefreshTokens =
            try container.decodeIfPresent(Bool.self, forKey: .oauthRotatesRefreshTokens)
            ?? defaults.oauthRotatesRefreshTokens
        integrationEventContext =
            try container.decodeIfPresent(Bool.self, forKey: .integrationEventContext)
            ?? defaults.integrationEventContext
        dropIntegrationTriggers =
            try container.decodeIfPresent(Bool.self, forKey: .dropIntegrationTriggers)
            ?? defaults.dropIntegrationTriggers
    }
}

/// Start-up options of the sandbox (`switchboard-dev sandbox …`).
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
    /// Accounts (Gorgias subdomains, Twilio SIDs) are created by the first request that uses them, with its
    /// credentials. Off (the default), an unknown account answers 401 as the real APIs do; register accounts through
    /// `POST /sandbox/gorgias/accounts` and `/sandbox/twilio/accounts`.
    public var autoCreateAccounts = false
    /// The one OAuth app the sandbox's Gorgias knows (`GORGIAS_OAUTH_CLIENT_ID`/`_SECRET` on Switchboard's side).
    public var oauthClientId = "switchboard-sandbox"
    public var oauthClientSecret = "sandbox-oauth-secret"
    /// Told of every API call served and webhook sent (tests check them against the providers' contracts).
    public var observer: (@Sendable (SandboxObservation) -> Void)?

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
