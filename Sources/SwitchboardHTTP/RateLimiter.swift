import Foundation
import Prometheus
import Synchronization

/// A shared request budget per API account. ``acquire(_:)`` waits for a token; a wait longer than the caller allows
/// becomes a ``ProcessingFailure`` of kind `.throttled`, so the runtime defers the record instead of holding a slot.
public protocol RateLimiter: Sendable {
    /// Takes `count` tokens from `budget` at once (all or none), waiting at most `maximumWait`.
    func acquire(_ budget: RateBudget, count: Int, maximumWait: Duration) async throws

    /// Empties the budget until `until` (a 429 `Retry-After`, or the API reporting the budget spent by others).
    func block(_ budget: RateBudget, until: Date) async throws

    /// Gives back `count` tokens taken ahead and not spent.
    func refund(_ budget: RateBudget, count: Int) async throws
}

extension RateLimiter {
    /// Takes one token from `budget`, waiting at most `maximumWait`.
    public func acquire(_ budget: RateBudget, maximumWait: Duration) async throws {
        try await acquire(budget, count: 1, maximumWait: maximumWait)
    }
}

/// Tokens a task took ahead for the calls it is about to make (``GorgiasClient/reserving(calls:_:)``): those calls
/// spend them instead of asking the bucket one by one.
///
/// Why: a record that needs several calls (a first text: find the customer, create it, create the ticket) and takes
/// its tokens one at a time competes with hundreds of others doing the same; under a burst beyond the budget every
/// record gets its first token and none its last, and nothing finishes. Taking them all up front means a record
/// that starts can finish, so a burst drains at the budget's rate.
public final class RateReservation: Sendable {
    let bucket: String
    private let remaining: Atomic<Int>

    /// Tokens not spent yet.
    package var unspent: Int { remaining.load(ordering: .relaxed) }

    package init(bucket: String, tokens: Int) {
        self.bucket = bucket
        self.remaining = Atomic(tokens)
    }

    /// Spends one reserved token of `bucket`; false when none is left (the call then asks the bucket itself).
    package func spend(_ bucket: String) -> Bool {
        guard bucket == self.bucket else { return false }
        while true {
            let current = remaining.load(ordering: .relaxed)
            guard current > 0 else { return false }
            if remaining.compareExchange(expected: current, desired: current - 1, ordering: .relaxed).exchanged {
                return true
            }
        }
    }

    /// The reservation of the running task, if any.
    @TaskLocal package static var current: RateReservation?
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

    /// Gorgias: 40 requests per 20 s with an API key, 80 with OAuth (contracts/gorgias/operations.json, "headers"), less
    /// ``gorgiasReserve``.
    public static func gorgias(accountId: String, oauth: Bool) -> RateBudget {
        RateBudget(
            bucket: "gorgias:\(accountId)", capacity: (oauth ? 80 : 40) - gorgiasReserve, perSecond: oauth ? 4 : 2)
    }

    /// Burst tokens kept below Gorgias' documented limit. Our bucket counts when a request leaves, Gorgias' when it
    /// arrives: requests that leave evenly but arrive bunched (network jitter, a busy machine) fill Gorgias' bucket
    /// faster than ours. Four tokens absorb two seconds of jitter at the API-key refill rate; two (one second) still
    /// let a 16-task burst on a loaded 2-core machine draw a 429 (`GorgiasClientTests.budget`).
    public static let gorgiasReserve: Double = 4
}

/// A limiter that never waits (CLI one-offs and tests that are not about rate limits).
public struct UnlimitedRateLimiter: RateLimiter {
    public init() {}
    public func acquire(_ budget: RateBudget, count: Int, maximumWait: Duration) async throws {}
    public func block(_ budget: RateBudget, until: Date) async throws {}
    public func refund(_ budget: RateBudget, count: Int) async throws {}
}
