import Foundation

/// The last result of one health check of a merchant account (`gorgias_integration`, `gorgias_credentials`).
public struct AccountHealth: Sendable, Hashable, Codable {
    public var check: String
    public var healthy: Bool
    /// What was found, in words (never a secret).
    public var detail: String
    public var checkedAt: Date
    /// When `healthy` last changed: how long a problem has lasted.
    public var changedAt: Date

    public init(check: String, healthy: Bool, detail: String, checkedAt: Date, changedAt: Date) {
        self.check = check
        self.healthy = healthy
        self.detail = detail
        self.checkedAt = checkedAt
        self.changedAt = changedAt
    }
}
