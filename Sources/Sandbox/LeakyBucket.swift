import Foundation

/// Gorgias' limiter (contracts/gorgias/operations.json, "headers"): a leaky bucket per account holding `capacity` requests, draining at
/// `capacity / 20` per second (40 with an API key, 80 with OAuth).
struct LeakyBucket: Codable, Sendable, Hashable {
    var capacity: Double
    var level: Double = 0
    var updatedAt = Date()

    var drainPerSecond: Double { capacity / 20 }

    /// Admits one request, or says how long until one fits.
    mutating func admit(now: Date = Date()) -> (admitted: Bool, retryAfter: Double) {
        level = max(0, level - max(0, now.timeIntervalSince(updatedAt)) * drainPerSecond)
        updatedAt = max(updatedAt, now)
        guard level + 1 <= capacity else { return (false, (level + 1 - capacity) / drainPerSecond) }
        level += 1
        return (true, 0)
    }

    /// `used/limit` for `X-Gorgias-Account-Api-Call-Limit`.
    var usage: String { "\(Int(level.rounded(.up)))/\(Int(capacity))" }
}
