import Foundation

/// A phone's SMS consent with one account.
public enum ConsentState: String, Sendable, Codable, CaseIterable {
    case subscribed
    /// Never confirmed (e.g. double opt-in not completed): nothing may be sent.
    case pending
    case unsubscribed
}

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
}

/// A consent change to apply; later changes (by `at`) win, and at equal times an opt-out wins.
public struct ConsentChange: Sendable, Hashable {
    public var accountId: String
    public var phone: String
    public var state: ConsentState
    public var at: Date
    public var source: String
    public var name: String?
    public var email: String?

    public init(accountId: String, phone: String, state: ConsentState, at: Date, source: String, name: String? = nil, email: String? = nil) {
        self.accountId = accountId
        self.phone = phone
        self.state = state
        self.at = at
        self.source = source
        self.name = name
        self.email = email
    }
}

/// What applying a consent change did.
public enum ConsentResult: Sendable, Hashable {
    /// The change became the subscriber's state (`previous` nil for a new subscriber).
    case applied(previous: ConsentState?)
    /// A newer change already stands; nothing changed.
    case stale(current: Subscriber)
}
