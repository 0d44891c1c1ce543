import Foundation
import SwitchboardJSON

/// Everything the sandbox remembers, as the APIs would show it. Objects are kept as the JSON the real APIs return,
/// independent of Switchboard's client models, so the clients are tested against a separate implementation.
struct SandboxState: Codable, Sendable {
    var gorgias: [String: GorgiasAccount] = [:]
    var twilio: [String: TwilioAccount] = [:]
    var undeliverable: [String: Int] = [:]
    /// Numbers whose messages end `partially_delivered` (some of the message reached the handset).
    var partiallyDelivered: Set<String>? = nil
    var faults = SandboxFaults()
    /// Requests to the media CDN that carried credentials (Twilio's redirect goes to another host: a client that
    /// forwards the account's Basic auth there leaks it).
    var credentialsSentToCDN = 0
    /// API requests served (fault injection counts these).
    var apiRequests = 0
    var nextId: Int64 = 1000
    /// OAuth authorization codes issued at consent and not yet exchanged, by code.
    var oauthCodes: [String: OAuthCode] = [:]

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
    /// Files uploaded with `POST /api/upload`, by id; served at `/gorgias/<subdomain>/files/<id>/<name>`.
    var files: [String: StoredFile] = [:]
    /// OAuth access tokens granted through `/oauth/token`, with their expiry.
    var accessTokens: [String: Date] = [:]
    /// OAuth refresh tokens still valid.
    var refreshTokens: Set<String> = []
    /// OAuth grants: codes exchanged, refreshes, revocations (what tests count).
    var oauthExchanges = 0
    var oauthRefreshes = 0
    var oauthRevocations = 0
    /// API calls refused for their credentials (401).
    var refusedCalls = 0
    /// Tickets and customers merged into others, by the id that is gone: Gorgias answers 301 to the survivor.
    var mergedTickets: [Int64: Int64]? = nil
    var mergedCustomers: [Int64: Int64]? = nil
    /// The scopes each OAuth token (access or refresh) was granted; a token not listed has every scope (a pasted one).
    var tokenScopes: [String: [String]]? = nil

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

    /// Whether `token` is a Bearer token this account takes now.
    func acceptsBearer(_ token: String, now: Date = Date()) -> Bool {
        token == oauthToken || (accessTokens[token].map { $0 > now } ?? false)
    }

    func ticketIndex(_ id: Int64) -> Int? { tickets.firstIndex { $0["id"]?.intValue == id } }

    /// Where a merged ticket or customer went, following merges of merges.
    static func survivor(of id: Int64, in merges: [Int64: Int64]?) -> Int64? {
        var current = id
        var seen: Set<Int64> = []
        while let next = merges?[current], seen.insert(current).inserted { current = next }
        return current == id ? nil : current
    }
    func customerIndex(_ id: Int64) -> Int? { customers.firstIndex { $0["id"]?.intValue == id } }
}

/// What a Twilio number can do (`capabilities` of an IncomingPhoneNumber) and where its incoming texts go.
struct NumberCapabilities: Codable, Sendable {
    var sms: Bool
    var mms: Bool
    /// The number's incoming-message webhook (`SmsUrl`), nil until set.
    var smsURL: String?
    /// A TwiML App (`AP…`) handling the number's texts: when set, Twilio ignores `SmsUrl` and calls the app's.
    var smsApplicationSid: String? = nil

    /// The number's `PN…` SID, derived from the number so it stays the same across restarts.
    static func sid(_ number: String) -> String {
        let digits = number.filter(\.isNumber)
        return "PN" + String((digits + String(repeating: "0", count: 32)).prefix(32))
    }
}

/// A Messaging Service (`MG…`): its numbers, where their incoming texts go, and whether Advanced Opt-Out is on.
struct MessagingService: Codable, Sendable {
    var numbers: [String]
    /// The service's `inbound_request_url`; nil: inbound messages are not received (Twilio's Messaging v1 document).
    var inboundRequestURL: String?
    /// `use_inbound_webhook_on_number`: each number's own webhook is used instead of the service's.
    var useInboundWebhookOnNumber = false
    /// Advanced Opt-Out: the service's keyword engine, and the `OptOutType` parameter on inbound webhooks.
    var advancedOptOut = false
}

/// One Twilio account (AccountSid).
struct TwilioAccount: Codable, Sendable {
    var accountSid: String
    var authToken: String
    var messages: [StoredSMS] = []
    /// `sender|recipient` pairs blocked by a STOP (sender is a number or messaging service SID).
    var blocklist: Set<String> = []
    /// Twilio's default opt-out handling (on unless turned off, as for a new Twilio number): STOP, START and HELP are
    /// answered by Twilio itself and STOP blocklists the pair. Off: the application must do all of it (a short code
    /// outside a Messaging Service, or Advanced Opt-Out with replies off).
    var defaultOptOutHandling = true
    /// Messaging services (`MG…`): a STOP to one of their numbers blocks the whole service.
    var services: [String: MessagingService] = [:]
    /// TwiML Apps (`AP…`) and their `sms_url`.
    var applications: [String: String] = [:]
    /// When each sender's queue next lets a message out.
    var nextDispatch: [String: Date] = [:]
    /// Media of inbound messages, by media SID (`ME…`), served only with the account's Basic auth.
    var media: [String: StoredFile] = [:]
    /// The account's phone numbers and what each can send (`IncomingPhoneNumbers`).
    var numbers: [String: NumberCapabilities] = [:]
    /// A Webhook Rule's shared key (`KS…` id and secret): webhooks are signed with it and HMAC-SHA256, and say so in
    /// `X-Twilio-Webhooks-Signature-Settings`, instead of with the auth token.
    var webhookKey: WebhookKey?

    struct WebhookKey: Codable, Sendable {
        var id: String
        var secret: String
    }

    init(
        accountSid: String, authToken: String, defaultOptOutHandling: Bool = true,
        services: [String: MessagingService] = [:]
    ) {
        self.accountSid = accountSid
        self.authToken = authToken
        self.defaultOptOutHandling = defaultOptOutHandling
        self.services = services
    }

    /// The messaging service a number belongs to, if any.
    func service(of number: String) -> String? {
        services.first { $0.value.numbers.contains(number) }?.key
    }

    /// Where Twilio posts a text to `number`, as its documents say it routes: the number's Messaging Service's
    /// `inbound_request_url` (unless the service defers to the number), else the number's TwiML App's `sms_url`,
    /// else the number's `SmsUrl`. Nil: nobody is told (Twilio logs the message and calls no one).
    func inboundURL(for number: String) -> String? {
        if let sid = service(of: number), let service = services[sid], !service.useInboundWebhookOnNumber {
            return service.inboundRequestURL
        }
        guard let details = numbers[number] else { return nil }
        if let app = details.smsApplicationSid { return applications[app] }
        return details.smsURL.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether a send from `sender` (a number or a service) to `recipient` is blocked by an earlier STOP: Twilio blocks
    /// the (number or whole messaging service, recipient) pair.
    func isBlocked(sender: String, recipient: String) -> Bool {
        var senders = [sender]
        if let service = service(of: sender) { senders.append(service) }
        senders += services[sender]?.numbers ?? []
        return senders.contains { blocklist.contains("\($0)|\(recipient)") }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        accountSid = try container.decode(String.self, forKey: .accountSid)
        authToken = try container.decode(String.self, forKey: .authToken)
        messages = try container.decodeIfPresent([StoredSMS].self, forKey: .messages) ?? []
        blocklist = try container.decodeIfPresent(Set<String>.self, forKey: .blocklist) ?? []
        defaultOptOutHandling = try container.decodeIfPresent(Bool.self, forKey: .defaultOptOutHandling) ?? true
        services = try container.decodeIfPresent([String: MessagingService].self, forKey: .services) ?? [:]
        applications = try container.decodeIfPresent([String: String].self, forKey: .applications) ?? [:]
        nextDispatch = try container.decodeIfPresent([String: Date].self, forKey: .nextDispatch) ?? [:]
        media = try container.decodeIfPresent([String: StoredFile].self, forKey: .media) ?? [:]
        numbers = try container.decodeIfPresent([String: NumberCapabilities].self, forKey: .numbers) ?? [:]
        webhookKey = try container.decodeIfPresent(WebhookKey.self, forKey: .webhookKey)
    }

    struct StoredSMS: Codable, Sendable {
        var message: JSONValue
        var mediaUrls: [String]
        var statusCallback: String?
        var createdAt: Date
        var sid: String { message["sid"]?.stringValue ?? "" }
    }
}

/// A file the sandbox holds (an upload to Gorgias, an MMS image at Twilio).
struct StoredFile: Codable, Sendable {
    var name: String
    var contentType: String
    var bytes: [UInt8]

    /// Bytes a real file of `contentType` starts with, padded to `size` (so type sniffing sees the real format).
    static func generated(contentType: String, size: Int) -> [UInt8] {
        let magic: [UInt8] =
            switch contentType {
            case "image/jpeg": [0xFF, 0xD8, 0xFF, 0xE0]
            case "image/png": [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            case "image/gif": Array("GIF89a".utf8)
            case "application/pdf": Array("%PDF-1.7\n".utf8)
            default: []
            }
        return magic + (0..<max(0, size - magic.count)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
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

extension SandboxState {
    /// Now on the sandbox Gorgias' clock (``SandboxFaults/gorgiasClockOffsetSeconds`` off the real one), formatted.
    var gorgiasNow: String { SandboxTime.gorgias(Date().addingTimeInterval(faults.gorgiasClockOffsetSeconds)) }
}

/// Sandbox clock formatting: Gorgias datetimes are ISO 8601 with microseconds and no zone, as in the reference's
/// examples (contracts/gorgias/schemas/datetime.schema.json), to be read as UTC.
enum SandboxTime {
    static func gorgias(_ date: Date = Date()) -> String {
        let millisecond = RFC3339.format(date, fractional: true)
        return String(millisecond.dropLast()) + "000"
    }
}

/// A consent's authorization code, exchanged once at `/oauth/token`.
struct OAuthCode: Codable, Sendable {
    var subdomain: String
    var redirectURI: String
    var expiresAt: Date
    /// The scopes consented to.
    var scopes: [String]? = nil
}
