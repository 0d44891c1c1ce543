import Foundation
import Shared

/// Everything the sandbox remembers, as the APIs would show it. Objects are kept as the JSON the real APIs return,
/// independent of Switchboard's client models, so the clients are tested against a separate implementation.
struct SandboxState: Codable, Sendable {
    var gorgias: [String: GorgiasAccount] = [:]
    var twilio: [String: TwilioAccount] = [:]
    var undeliverable: [String: Int] = [:]
    var faults = SandboxFaults()
    /// API requests served (fault injection counts these).
    var apiRequests = 0
    var nextId: Int64 = 1000

    mutating func allocateId() -> Int64 {
        nextId += 1
        return nextId
    }
}

/// One Gorgias account (subdomain).
struct GorgiasAccount: Codable, Sendable {
    var subdomain: String
    var email: String?
    var apiKey: String?
    var oauthToken: String?
    var customers: [JSONValue] = []
    var tickets: [JSONValue] = []
    var integrations: [Integration] = []
    var bucket: LeakyBucket
    /// Every API call (including refused ones), for "Gorgias calls per event".
    var calls = 0
    var callsByOperation: [String: Int] = [:]

    struct Integration: Codable, Sendable {
        var object: JSONValue
        var consecutiveFailures = 0
        var id: Int64 { object["id"]?.intValue ?? 0 }
        var isActive: Bool { object["deactivated_datetime"]?.isNull ?? true }
    }

    init(subdomain: String, email: String?, apiKey: String?, oauthToken: String?) {
        self.subdomain = subdomain
        self.email = email
        self.apiKey = apiKey
        self.oauthToken = oauthToken
        self.bucket = LeakyBucket(capacity: oauthToken != nil ? 80 : 40)
    }

    func ticketIndex(_ id: Int64) -> Int? { tickets.firstIndex { $0["id"]?.intValue == id } }
    func customerIndex(_ id: Int64) -> Int? { customers.firstIndex { $0["id"]?.intValue == id } }
}

/// One Twilio account (AccountSid).
struct TwilioAccount: Codable, Sendable {
    var accountSid: String
    var authToken: String
    var messages: [StoredSMS] = []
    /// `sender|recipient` pairs blocked by a STOP (sender is a number or messaging service SID).
    var blocklist: Set<String> = []
    /// Twilio's default opt-out handling (on unless turned off, as for a new Twilio number): STOP, START and HELP are
    /// answered by Twilio itself, STOP blocklists the pair, and the webhook carries `OptOutType`. Off: the
    /// application must do all of it (a short code outside a Messaging Service, or Advanced Opt-Out with replies off).
    var defaultOptOutHandling = true

    init(accountSid: String, authToken: String, defaultOptOutHandling: Bool = true) {
        self.accountSid = accountSid
        self.authToken = authToken
        self.defaultOptOutHandling = defaultOptOutHandling
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        accountSid = try container.decode(String.self, forKey: .accountSid)
        authToken = try container.decode(String.self, forKey: .authToken)
        messages = try container.decodeIfPresent([StoredSMS].self, forKey: .messages) ?? []
        blocklist = try container.decodeIfPresent(Set<String>.self, forKey: .blocklist) ?? []
        defaultOptOutHandling = try container.decodeIfPresent(Bool.self, forKey: .defaultOptOutHandling) ?? true
    }

    struct StoredSMS: Codable, Sendable {
        var message: JSONValue
        var mediaUrls: [String]
        var statusCallback: String?
        var createdAt: Date
        var sid: String { message["sid"]?.stringValue ?? "" }
    }
}

/// A webhook the sandbox must deliver after answering (integration events, status callbacks, inbound texts).
struct WebhookJob: Sendable {
    enum Kind: Sendable {
        /// A Gorgias HTTP integration call; failures count toward its auto-disable.
        case integration(subdomain: String, integrationId: Int64)
        case statusCallback
        case inbound
    }

    var kind: Kind
    var url: String
    var headers: [(String, String)]
    var body: [UInt8]
    var delayMs: Int = 0
}

/// Sandbox clock formatting: Gorgias datetimes are ISO 8601 with microseconds and `+00:00`.
enum SandboxTime {
    static func gorgias(_ date: Date = Date()) -> String {
        let millisecond = RFC3339.format(date, fractional: true)
        return String(millisecond.dropLast()) + "000+00:00"
    }
}
