import Foundation

public struct Subscriber: Sendable, Hashable {
    public var accountId: String
    public var phone: String
    public var state: ConsentState
    /// When the consent change happened (event time), which orders changes.
    public var changedAt: Date
    /// Who changed it: `keyword:STOP`, `agent:#optout`, `provider:21610`, an upstream source name…
    public var source: String
    public var name: String?
    public var email: String?

    public init(
        accountId: String, phone: String, state: ConsentState, changedAt: Date, source: String, name: String? = nil,
        email: String? = nil
    ) {
        self.accountId = accountId
        self.phone = phone
        self.state = state
        self.changedAt = changedAt
        self.source = source
        self.name = name
        self.email = email
    }
}

/// A consent change to apply; later changes (by `at`) win, and at equal times an opt-out wins.
///
/// Consent records are evidence: each change keeps when it happened, its source (see ``ConsentSource``), the event
/// that carried it and the keyword exactly as the customer sent it.
public struct ConsentChange: Sendable, Hashable {
    public var accountId: String
    public var phone: String
    public var state: ConsentState
    public var at: Date
    public var source: String
    public var name: String?
    public var email: String?
    /// The event that carried the change (nil for an import or a CLI change).
    public var eventId: String?
    /// The text as received (`Stop.`, `ARRET`), for keyword changes.
    public var keyword: String?

    public init(
        accountId: String, phone: String, state: ConsentState, at: Date, source: String, name: String? = nil,
        email: String? = nil,
        eventId: String? = nil, keyword: String? = nil
    ) {
        self.accountId = accountId
        self.phone = phone
        self.state = state
        self.at = at
        self.source = source
        self.name = name
        self.email = email
        self.eventId = eventId
        self.keyword = keyword
    }
}

/// How consent sources are written in ``ConsentChange/source`` and read back for people.
public enum ConsentSource {
    /// The customer texted a keyword Switchboard matched (`keyword:STOP`).
    public static func keyword(_ keyword: ConsentKeyword) -> String { "keyword:\(keyword.providerType)" }
    /// The provider's opt-out handling recognised the text (Twilio's `OptOutType`).
    public static func providerKeyword(_ type: String) -> String { "provider-keyword:\(type.uppercased())" }
    /// An agent wrote `#optout` in a reply.
    public static let agentOptOut = "agent:#optout"
    /// The provider refused a send because the recipient opted out there (21610).
    public static func provider(code: Int) -> String { "provider:\(code)" }
    /// A row of `switchboard consent import`, with the source the file gave.
    public static func imported(_ source: String) -> String { "import:\(source)" }
    /// An upstream system's name (`sms.subscriptions`), kept as given unless it would pass for one of Switchboard's
    /// own sources (`keyword:START` from a sign-up form must not count as the customer's keyword).
    public static func upstream(_ name: String) -> String {
        reserved.contains { name.hasPrefix($0) } ? "upstream:\(name)" : name
    }

    private static let reserved = ["keyword:", "provider-keyword:", "provider:", "agent:", "import:", "upstream:"]

    /// Whether an opt-out came from the customer: their keyword (matched by Switchboard or the provider), the
    /// provider's record of their opt-out (21610), or an agent acting on their words (`#optout`).
    public static func isCustomerOptOut(_ source: String) -> Bool {
        source.hasPrefix("keyword:") || source.hasPrefix("provider-keyword:") || source.hasPrefix("provider:")
            || source == agentOptOut
    }

    /// Whether an opt-in is the customer's own keyword (START, UNSTOP, YES…).
    public static func isCustomerOptIn(_ source: String) -> Bool {
        source == keyword(.optIn) || source == providerKeyword(ConsentKeyword.optIn.providerType)
    }

    /// Consent precedence (README, "Consent"): anyone may opt a customer out, and a later change replaces an earlier
    /// one, except that an opt-out the customer made (``isCustomerOptOut(_:)``) is undone only by their own opt-in
    /// keyword (``isCustomerOptIn(_:)``), as the FCC's revocation rule has it: a sign-up form's or an import's later
    /// "subscribed" or "pending" does not undo it. An opt-out from a merchant's own system (an upstream source, an
    /// import) is undone by any later opt-in.
    public static func mayReplace(_ current: Subscriber, with change: ConsentChange) -> Bool {
        guard current.state == .unsubscribed, change.state != .unsubscribed else { return true }
        return !isCustomerOptOut(current.source) || isCustomerOptIn(change.source)
    }

    /// The source in words, for notes and the CLI.
    public static func describe(_ source: String) -> String {
        if source.hasPrefix("keyword:") { return "texted \(source.dropFirst("keyword:".count))" }
        if source.hasPrefix("provider-keyword:") {
            return "texted a \(source.dropFirst("provider-keyword:".count)) keyword the SMS provider recognised"
        }
        if source == agentOptOut { return "an agent used #optout" }
        if source.hasPrefix("provider:") { return "the carrier or SMS provider reported an opt-out" }
        if source.hasPrefix("import:") { return "imported (\(source.dropFirst("import:".count)))" }
        return "reported by \(source)"
    }
}

/// One change in a subscriber's consent history.
public struct ConsentRecord: Sendable, Hashable {
    public var accountId: String
    public var phone: String
    public var state: ConsentState
    /// When the change happened (the customer's text, the sign-up, the agent's reply).
    public var at: Date
    /// When Switchboard recorded it.
    public var recordedAt: Date
    public var source: String
    public var eventId: String?
    public var keyword: String?

    public init(
        accountId: String, phone: String, state: ConsentState, at: Date, recordedAt: Date, source: String,
        eventId: String? = nil, keyword: String? = nil
    ) {
        self.accountId = accountId
        self.phone = phone
        self.state = state
        self.at = at
        self.recordedAt = recordedAt
        self.source = source
        self.eventId = eventId
        self.keyword = keyword
    }
}

/// What applying a consent change did.
public enum ConsentResult: Sendable, Hashable {
    /// The change became the subscriber's state (`previous` nil for a new subscriber).
    case applied(previous: ConsentState?)
    /// A newer change already stands; nothing changed.
    case stale(current: Subscriber)
    /// The change is newer, but its source may not undo the customer's own opt-out (``ConsentSource/mayReplace``);
    /// nothing changed.
    case refused(current: Subscriber)
}
