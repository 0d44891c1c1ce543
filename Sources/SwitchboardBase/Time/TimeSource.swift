import Foundation

/// Where a component reads time: a monotonic clock for waits, bounds and durations, and the wall clock for what is
/// stored or compared with a provider's times. Production runs on ``SystemTime``; tests on `TestKit.ManualClock`,
/// which moves only when told, so backoff, budgets, breakers and token lifetimes are tested in microseconds.
public protocol TimeSource: Sendable {
    /// Monotonic now.
    var now: ContinuousClock.Instant { get }
    /// Wall-clock now.
    var date: Date { get }
    /// Sleeps until `deadline` on this source's monotonic clock; throws when the task is cancelled.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

extension TimeSource {
    /// Sleeps for `duration` on this source's monotonic clock; throws when the task is cancelled.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now.advanced(by: duration))
    }
}

/// The machine's clocks: `ContinuousClock` and `Date()`.
public struct SystemTime: TimeSource {
    public init() {}

    public var now: ContinuousClock.Instant { .now }
    public var date: Date { Date() }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: deadline, clock: .continuous)
    }
}

extension TimeSource where Self == SystemTime {
    /// The machine's clocks.
    public static var system: SystemTime { SystemTime() }
}
