import SwitchboardBase

/// Exponential backoff with full jitter: attempt n waits a uniform random time in [base·2ⁿ/2, base·2ⁿ], capped.
public struct Backoff: Sendable, Hashable {
    public var base: Duration
    public var maximum: Duration

    public init(base: Duration = .milliseconds(200), maximum: Duration = .seconds(5)) {
        self.base = base
        self.maximum = maximum
    }

    /// The wait before retry number `attempt` (1-based), never below `floor` (e.g. a `Retry-After`).
    public func delay(attempt: Int, floor: Duration? = nil) -> Duration {
        let exponent = min(max(attempt - 1, 0), 20)
        let ceiling = min(base * (1 << exponent), maximum)
        let millis = max(ceiling.milliseconds, 1)
        let jittered = Duration.milliseconds(Int64.random(in: (millis / 2)...millis))
        return max(jittered, floor ?? .zero)
    }
}
