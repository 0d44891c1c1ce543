import Foundation

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

    /// Opens the account's credentials.
    public func credentials(_ box: SecretBox) throws -> AccountCredentials {
        try JSONDecoder().decode(AccountCredentials.self, from: box.open(sealedCredentials))
    }

    /// Account ids are short, safe identifiers (they appear in record keys, logs and metric-free paths).
    public static func isValidId(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, id.unicodeScalars.count <= 64, CharacterSet.alphanumerics.contains(first), first.isASCII else {
            return false
        }
        return id.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0)) }
    }
}

/// The secrets of an account. `description` never reveals them.
public struct AccountCredentials: Codable, Sendable, Hashable, CustomStringConvertible {
    public var gorgiasAPIKey: String?
    public var gorgiasOAuthToken: String?
    public var smsAuthToken: String
    /// The secret Gorgias' HTTP integration sends to the ingress (header and query), generated at connect time.
    public var integrationSecret: String?

    public init(gorgiasAPIKey: String? = nil, gorgiasOAuthToken: String? = nil, smsAuthToken: String, integrationSecret: String? = nil) {
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

    /// Seals these credentials for storage.
    public func sealed(_ box: SecretBox) throws -> String {
        try box.seal(JSONEncoder().encode(self))
    }
}

/// Per-account behaviour (architecture §4).
public struct AccountSettings: Codable, Sendable, Hashable {
    /// What a text on a closed ticket does.
    public enum ClosedTicketPolicy: String, Codable, Sendable, CaseIterable {
        /// Open a new ticket (the default).
        case new
        /// Reopen the closed ticket if it closed within ``AccountSettings/reopenWindowHours``, else open a new one.
        case reopen
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
    /// When the SMS provider itself sends the STOP/START confirmation (Twilio's default opt-out handling),
    /// Switchboard records consent but sends no second confirmation.
    public var providerSendsConsentReplies: Bool = false
    /// The URL the SMS provider posts delivery statuses to (the ingress that feeds `sms.delivery-status`).
    public var statusCallbackURL: String?
    /// Whether Gorgias rule auto-replies (`via: rule`) are sent as SMS. Off by default: an automatic "we got your
    /// message" costs the customer an SMS and can ping-pong with their own auto-replies.
    public var forwardRuleReplies: Bool = false

    public init(brand: String) {
        self.brand = brand
    }

    /// Settings stored before a field existed decode with that field's default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        brand = try container.decode(String.self, forKey: .brand)
        stopClosesTicket = try container.decodeIfPresent(Bool.self, forKey: .stopClosesTicket) ?? true
        closedTicketPolicy = try container.decodeIfPresent(ClosedTicketPolicy.self, forKey: .closedTicketPolicy) ?? .new
        reopenWindowHours = try container.decodeIfPresent(Int.self, forKey: .reopenWindowHours) ?? 72
        helpText = try container.decodeIfPresent(String.self, forKey: .helpText)
        helpContact = try container.decodeIfPresent(String.self, forKey: .helpContact)
        providerSendsConsentReplies = try container.decodeIfPresent(Bool.self, forKey: .providerSendsConsentReplies) ?? false
        statusCallbackURL = try container.decodeIfPresent(String.self, forKey: .statusCallbackURL)
        forwardRuleReplies = try container.decodeIfPresent(Bool.self, forKey: .forwardRuleReplies) ?? false
    }

    /// The HELP reply: the account's text, or a CTIA-style default with brand, contact, opt-out and rates.
    public var effectiveHelpText: String {
        if let helpText, !helpText.isEmpty { return helpText }
        let contact = helpContact.map { " Help at \($0)." } ?? ""
        return "\(brand):\(contact) Msg&data rates may apply. Msg frequency varies. Reply STOP to cancel."
    }
}
