import Foundation
import SwitchboardBase

/// A merchant connected to Switchboard: its Gorgias helpdesk, its SMS sender, and its settings.
/// Secrets live only in ``sealedCredentials`` (AES-GCM); nothing here prints them.
public struct Account: Sendable, Hashable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case connected
        case disconnected
    }

    /// How Switchboard authenticates to Gorgias; OAuth apps get twice the API budget.
    public enum GorgiasAuthKind: String, Sendable, Codable {
        case apiKey = "api_key"
        case oauth
    }

    /// Who the SMS comes from: a number, or a Twilio Messaging Service that picks one.
    public enum SMSSender: Sendable, Hashable {
        case number(String)
        case messagingService(String)
    }

    public var id: String
    public var status: Status
    /// e.g. `https://acme.gorgias.com` (no trailing `/api`).
    public var gorgiasBaseURL: String
    public var gorgiasAuthKind: GorgiasAuthKind
    public var gorgiasEmail: String?
    /// e.g. `https://api.twilio.com`.
    public var smsBaseURL: String
    public var smsAccountSid: String
    public var smsSender: SMSSender
    public var settings: AccountSettings
    /// The sealed ``AccountCredentials``; open with ``SecretBox``.
    public var sealedCredentials: String
    public var gorgiasIntegrationId: Int64?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String,
        status: Status = .connected,
        gorgiasBaseURL: String,
        gorgiasAuthKind: GorgiasAuthKind,
        gorgiasEmail: String?,
        smsBaseURL: String,
        smsAccountSid: String,
        smsSender: SMSSender,
        settings: AccountSettings,
        sealedCredentials: String,
        gorgiasIntegrationId: Int64? = nil,
        createdAt: Date = Date(),
        updatedAt: Date = Date()
    ) {
        self.id = id
        self.status = status
        self.gorgiasBaseURL = gorgiasBaseURL
        self.gorgiasAuthKind = gorgiasAuthKind
        self.gorgiasEmail = gorgiasEmail
        self.smsBaseURL = smsBaseURL
        self.smsAccountSid = smsAccountSid
        self.smsSender = smsSender
        self.settings = settings
        self.sealedCredentials = sealedCredentials
        self.gorgiasIntegrationId = gorgiasIntegrationId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Account ids are short, safe identifiers (they appear in record keys, logs and metric-free paths).
    public static func isValidId(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, id.unicodeScalars.count <= 64,
            CharacterSet.alphanumerics.contains(first), first.isASCII
        else {
            return false
        }
        return id.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0))
        }
    }
}

/// The secrets of an account. `description` never reveals them.
public struct AccountCredentials: Codable, Sendable, Hashable, CustomStringConvertible {
    public var gorgiasAPIKey: String?
    /// The OAuth access token (or a long-lived token pasted at `accounts add`, which has no refresh token).
    public var gorgiasOAuthToken: String?
    /// The OAuth refresh token (scope `offline`), exchanged for a new access token before the old one expires.
    public var gorgiasRefreshToken: String?
    /// When ``gorgiasOAuthToken`` expires (nil: unknown, never refreshed ahead of time).
    public var gorgiasTokenExpiresAt: Date?
    /// When ``gorgiasOAuthToken`` was issued (with the expiry, how early to refresh it).
    public var gorgiasTokenIssuedAt: Date?
    public var smsAuthToken: String
    /// The secret Gorgias' HTTP integration sends to the ingress (header and query), generated at connect time.
    public var integrationSecret: String?
    /// Twilio webhook shared keys by key id (a Webhook Rule signs with one of them, HMAC-SHA256, instead of the auth
    /// token; two during a rotation). Nil: every webhook is signed with the auth token.
    public var smsWebhookKeys: [String: String]?
    /// The key merchant notices posted to the account's webhook are signed with (HMAC-SHA256), made when the webhook
    /// is set and shown once.
    public var noticeWebhookSecret: String?

    public init(
        gorgiasAPIKey: String? = nil, gorgiasOAuthToken: String? = nil, smsAuthToken: String,
        integrationSecret: String? = nil
    ) {
        self.gorgiasAPIKey = gorgiasAPIKey
        self.gorgiasOAuthToken = gorgiasOAuthToken
        self.smsAuthToken = smsAuthToken
        self.integrationSecret = integrationSecret
    }

    /// A fresh random secret (32 bytes, hex).
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    public var description: String { "AccountCredentials(redacted)" }

    /// The key a Twilio webhook announcing shared-key signing is checked with: the one with `id`, or the only one
    /// when the header names none.
    public func smsWebhookKey(id: String?) -> String? {
        guard let keys = smsWebhookKeys else { return nil }
        if let id { return keys[id] }
        return keys.count == 1 ? keys.values.first : nil
    }
}

/// Per-account behaviour (architecture §4). Chosen at `accounts add`, changed with `accounts set`; every change is
/// checked by ``problem()`` first.
public struct AccountSettings: Codable, Sendable, Hashable {
    /// What a text on a closed ticket does.
    public enum ClosedTicketPolicy: String, Codable, Sendable, CaseIterable {
        /// Open a new ticket (the default).
        case new
        /// Reopen the closed ticket if it closed within ``AccountSettings/reopenWindowHours``, else open a new one.
        case reopen
    }

    /// Who answers a customer's STOP, START and HELP, so that each gets exactly one reply.
    public enum ConsentReplies: String, Codable, Sendable, CaseIterable {
        /// The SMS provider (Twilio's default opt-out handling answers all three): Switchboard records, sends nothing.
        case provider
        /// Switchboard sends the STOP and START confirmations and the HELP answer (the provider's handling is off).
        case switchboard
    }

    /// STOP (or an agent's `#optout`) closes the conversation's open ticket; false leaves it open.
    public var stopClosesTicket: Bool = true
    public var closedTicketPolicy: ClosedTicketPolicy = .new
    public var reopenWindowHours: Int = 72
    public var brand: String
    /// The HELP/INFO reply; nil uses a compliant default built from ``brand`` and ``helpContact``.
    public var helpText: String?
    /// Where customers get help (URL, email or toll-free number), used in the default HELP text.
    public var helpContact: String?
    /// Who answers consent keywords. The default matches a Twilio account's default opt-out handling, which
    /// answers STOP, START and HELP itself.
    public var consentReplies: ConsentReplies = .provider
    /// Keywords beyond the defaults (e.g. `ARRET`, `ALTO`), for senders without the provider's Advanced Opt-Out.
    public var extraKeywords: ConsentKeyword.Vocabulary = .none
    /// Conversational messaging (CTIA): a customer who texted in may be answered for this many hours after their last
    /// text without consent on record, unless they opted out. Nil: off (the default).
    public var conversationalReplyHours: Int?
    /// The URL the SMS provider posts delivery statuses to (the ingress that feeds `sms.delivery-status`).
    public var statusCallbackURL: String?
    /// Whether Gorgias rule auto-replies (`via: rule`) are sent as SMS. Off by default: an automatic "we got your
    /// message" costs the customer an SMS and can ping-pong with their own auto-replies.
    public var forwardRuleReplies: Bool = false
    /// Where the merchant is told when its connection breaks and when it recovers (`MerchantNotices`): an email
    /// address, a webhook URL, both or neither.
    public var noticeEmail: String?
    public var noticeWebhookURL: String?
    /// Where Switchboard pointed the sender number's incoming-message webhook at connect (the merchant health check
    /// verifies it still points there), and what it pointed at before (restored on disconnect).
    public var inboundWebhookURL: String?
    public var previousInboundWebhookURL: String?
    /// The ingress URL the sender's incoming texts should reach (set at connect, for a number or a messaging
    /// service): the merchant health check reads where the provider really routes them (``InboundRoute``).
    public var ingressInboundURL: String?

    public init(brand: String) {
        self.brand = brand
    }

    /// Settings stored before a field existed decode with that field's default. Accounts stored with the old
    /// `providerSendsConsentReplies: false` (then the default) now answer through the provider, like Twilio does by
    /// default: the old default gave customers two confirmations.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        brand = try container.decode(String.self, forKey: .brand)
        stopClosesTicket = try container.decodeIfPresent(Bool.self, forKey: .stopClosesTicket) ?? true
        closedTicketPolicy = try container.decodeIfPresent(ClosedTicketPolicy.self, forKey: .closedTicketPolicy) ?? .new
        reopenWindowHours = try container.decodeIfPresent(Int.self, forKey: .reopenWindowHours) ?? 72
        helpText = try container.decodeIfPresent(String.self, forKey: .helpText)
        helpContact = try container.decodeIfPresent(String.self, forKey: .helpContact)
        consentReplies = try container.decodeIfPresent(ConsentReplies.self, forKey: .consentReplies) ?? .provider
        extraKeywords = try container.decodeIfPresent(ConsentKeyword.Vocabulary.self, forKey: .extraKeywords) ?? .none
        conversationalReplyHours = try container.decodeIfPresent(Int.self, forKey: .conversationalReplyHours)
        statusCallbackURL = try container.decodeIfPresent(String.self, forKey: .statusCallbackURL)
        forwardRuleReplies = try container.decodeIfPresent(Bool.self, forKey: .forwardRuleReplies) ?? false
        noticeEmail = try container.decodeIfPresent(String.self, forKey: .noticeEmail)
        noticeWebhookURL = try container.decodeIfPresent(String.self, forKey: .noticeWebhookURL)
        inboundWebhookURL = try container.decodeIfPresent(String.self, forKey: .inboundWebhookURL)
        previousInboundWebhookURL = try container.decodeIfPresent(String.self, forKey: .previousInboundWebhookURL)
        ingressInboundURL = try container.decodeIfPresent(String.self, forKey: .ingressInboundURL)
    }

    /// A setting that cannot stand, named as the CLI option that sets it, with the reason.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var setting: String
        public var reason: String
        public var description: String { "\(setting): \(reason)" }
    }

    /// The first setting that cannot stand, if any (`accounts add` and `accounts set` refuse it).
    public func problem() -> Problem? {
        if brand.trimmingCharacters(in: .whitespaces).isEmpty {
            return Problem(setting: "--brand", reason: "must not be empty")
        }
        if !(1...8760).contains(reopenWindowHours) {
            return Problem(setting: "--reopen-window-hours", reason: "must be 1 to 8760 hours")
        }
        if let hours = conversationalReplyHours, !(1...720).contains(hours) {
            return Problem(setting: "--conversational-reply-hours", reason: "must be 1 to 720 hours (or off)")
        }
        if consentReplies == .switchboard {
            // CTIA: a HELP answer carries the brand, a help contact, "Msg&data rates may apply" and how to opt out.
            guard let contact = helpContact?.trimmingCharacters(in: .whitespaces), !contact.isEmpty else {
                return Problem(
                    setting: "--help-contact",
                    reason:
                        "an account whose HELP replies Switchboard sends needs a help contact (URL, email or toll-free number)"
                )
            }
            if let helpText, !helpText.isEmpty {
                let upper = helpText.uppercased()
                guard helpText.contains(contact), upper.contains("STOP"), upper.contains("RATES MAY APPLY") else {
                    return Problem(
                        setting: "--help-text",
                        reason:
                            "a HELP reply must name the help contact, say \"Msg&data rates may apply\" and how to opt out (STOP)"
                    )
                }
            }
        }
        if let problem = extraKeywords.problem() {
            return Problem(
                setting: "--extra-\(problem.keyword.providerType.lowercased())-keywords", reason: problem.reason)
        }
        if let url = statusCallbackURL, URL(string: url)?.scheme?.hasPrefix("http") != true {
            return Problem(setting: "--status-callback-url", reason: "must be an http(s) URL")
        }
        if let email = noticeEmail, !Self.isEmailAddress(email) {
            return Problem(setting: "--notice-email", reason: "must be one email address like ops@example.com")
        }
        // By name here; the address it resolves to is checked again before every post (MerchantNotices).
        if let url = noticeWebhookURL, let problem = PublicTarget.problem(url, resolving: false) {
            return Problem(setting: "--notice-webhook-url", reason: problem)
        }
        return nil
    }

    /// One plain address: something before and after a single `@`, a dot in the domain, no spaces or brackets (it
    /// goes into an SMTP envelope and a mail header).
    static func isEmailAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !text.contains(where: { $0.isWhitespace || "<>,;\"".contains($0) })
    }

    /// The HELP reply: the account's text, or a CTIA-style default with brand, contact, rates and how to opt out.
    public var effectiveHelpText: String {
        if let helpText, !helpText.isEmpty { return helpText }
        let contact = helpContact.map { " Help at \($0)." } ?? ""
        return "\(brand):\(contact) Msg&data rates may apply. Msg frequency varies. Reply STOP to cancel."
    }
}
