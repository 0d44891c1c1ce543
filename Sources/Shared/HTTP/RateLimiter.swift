import Foundation
import Prometheus
import Synchronization

/// A shared request budget per API account. ``acquire(_:)`` waits for a token; a wait longer than the caller allows
/// becomes a ``ProcessingFailure`` of kind `.throttled`, so the runtime defers the record instead of holding a slot.
public protocol RateLimiter: Sendable {
    /// Takes one token from `budget`, waiting at most `maximumWait`.
    func acquire(_ budget: RateBudget, maximumWait: Duration) async throws

    /// Empties the budget until `until` (a 429 `Retry-After`, or the API reporting the budget spent by others).
    func block(_ budget: RateBudget, until: Date) async throws
}

/// A token bucket: `capacity` tokens, refilled at `perSecond`.
public struct RateBudget: Sendable, Hashable {
    public var bucket: String
    public var capacity: Double
    public var perSecond: Double

    public init(bucket: String, capacity: Double, perSecond: Double) {
        self.bucket = bucket
        self.capacity = capacity
        self.perSecond = perSecond
    }

    /// Gorgias: 40 requests per 20 s with an API key, 80 with OAuth (external-apis.md §1.2), less
    /// ``gorgiasReserve``.
    public static func gorgias(accountId: String, oauth: Bool) -> RateBudget {
        RateBudget(bucket: "gorgias:\(accountId)", capacity: (oauth ? 80 : 40) - gorgiasReserve, perSecond: oauth ? 4 : 2)
    }

    /// Burst tokens kept below Gorgias' documented limit. Our bucket counts when a request leaves, Gorgias' when it
    /// arrives; a second of network jitter at the refill rate would otherwise turn a full burst into a 429.
    public static let gorgiasReserve: Double = 2
}

/// The store-backed limiter: one budget per account shared by every process of every worker type.
public struct StoreRateLimiter: RateLimiter {
    public let store: Store
    public let metrics: LabeledMetrics?

    public init(store: Store, metrics: LabeledMetrics? = nil) {
        self.store = store
        self.metrics = metrics
    }

    public func acquire(_ budget: RateBudget, maximumWait: Duration) async throws {
        let started = ContinuousClock.now
        var waited = false
        while true {
            let wait = try await store.takeToken(bucket: budget.bucket, capacity: budget.capacity, refillPerSecond: budget.perSecond)
            if wait == .zero { break }
            let service = String(budget.bucket.prefix { $0 != ":" })
            if !waited { metrics?.counter(MetricCatalog.rateLimitWaits, [("service", service)]).increment() }
            waited = true
            let total = ContinuousClock.now - started + wait
            if total > maximumWait {
                throw ProcessingFailure(.throttled, "\(service).rate_limited", "the account's \(service) budget is spent", retryAfter: wait)
            }
            try await Task.sleep(for: wait)
        }
        if waited {
            let service = String(budget.bucket.prefix { $0 != ":" })
            metrics?.counter(MetricCatalog.rateLimitWaitSeconds, [("service", service)]).increment(by: (ContinuousClock.now - started).seconds)
        }
    }

    public func block(_ budget: RateBudget, until: Date) async throws {
        try await store.blockBucket(bucket: budget.bucket, until: until)
    }
}

/// A limiter that never waits (CLI one-offs and tests that are not about rate limits).
public struct UnlimitedRateLimiter: RateLimiter {
    public init() {}
    public func acquire(_ budget: RateBudget, maximumWait: Duration) async throws {}
    public func block(_ budget: RateBudget, until: Date) async throws {}
}
