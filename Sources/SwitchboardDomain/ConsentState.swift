/// A phone's SMS consent with one account.
public enum ConsentState: String, Sendable, Codable, CaseIterable {
    case subscribed
    /// Never confirmed (e.g. double opt-in not completed): nothing may be sent.
    case pending
    case unsubscribed
}
