import Foundation
import Prometheus
import SwitchboardBase
import SwitchboardHTTP
import SwitchboardObservability
import SwitchboardStore

/// The store-backed limiter: one budget per account shared by every process of every worker type.
public struct StoreRateLimiter: RateLimiter {
    public let store: Store
    public let metrics: LabeledMetrics?
    public let time: any TimeSource

    public init(store: Store, metrics: LabeledMetrics? = nil, time: any TimeSource = .system) {
        self.store = store
        self.metrics = metrics
        self.time = time
    }

    public func acquire(_ budget: RateBudget, count: Int, maximumWait: Duration) async throws {
        let started = time.now
        var waited = false
        while true {
            let wait = try await store.takeToken(
                bucket: budget.bucket, capacity: budget.capacity, refillPerSecond: budget.perSecond, count: count,
                now: time.date)
            if wait == .zero { break }
            let service = String(budget.bucket.prefix { $0 != ":" })
            if !waited { metrics?.counter(MetricCatalog.rateLimitWaits, [("service", service)]).increment() }
            waited = true
            let total = time.now - started + wait
            if total > maximumWait {
                throw ProcessingFailure(
                    .throttled, "\(service).rate_limited", "the account's \(service) budget is spent", retryAfter: wait)
            }
            try await time.sleep(for: wait)
        }
        if waited {
            let service = String(budget.bucket.prefix { $0 != ":" })
            metrics?.counter(MetricCatalog.rateLimitWaitSeconds, [("service", service)]).increment(
                by: (time.now - started).seconds)
        }
    }

    public func block(_ budget: RateBudget, until: Date) async throws {
        try await store.blockBucket(bucket: budget.bucket, until: until)
    }

    public func refund(_ budget: RateBudget, count: Int) async throws {
        try await store.refundTokens(bucket: budget.bucket, count: count)
    }
}
