import Foundation
import Synchronization
import SwitchboardBase

/// A clock that moves only when told: sleepers wake when ``advance(by:)`` or ``advanceToNextDeadline()`` passes their
/// deadline, so tests drive backoff, tiers, budgets, breakers and token lifetimes in microseconds instead of seconds.
///
/// Its monotonic instants are `ContinuousClock` instants counted from when it was made, and its wall clock starts at
/// `epoch`: both move together, so it stands in for ``SystemTime`` wherever a component takes a ``TimeSource``.
public final class ManualClock: Clock, TimeSource {
    public typealias Instant = ContinuousClock.Instant

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var elapsed: Duration = .zero
        var nextId = 0
        var sleepers: [Int: Sleeper] = [:]
    }

    private let origin = ContinuousClock.now
    /// The wall-clock time when the clock was made.
    public let epoch: Date
    private let state = Mutex(State())

    public init(epoch: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.epoch = epoch
    }

    /// Time moved since the clock was made.
    public var elapsed: Duration { state.withLock { $0.elapsed } }
    public var now: Instant { origin.advanced(by: elapsed) }
    public var date: Date { epoch.addingTimeInterval(elapsed.seconds) }
    public var minimumResolution: Duration { .zero }

    /// Tasks sleeping on this clock right now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline anyone sleeps until.
    public var nextDeadline: Instant? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    public func sleep(until deadline: Instant) async throws {
        try await sleep(until: deadline, tolerance: nil)
    }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state -> Int in
            state.nextId += 1
            return state.nextId
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let wakeNow = state.withLock { state -> (any Error)?? in
                    if Task.isCancelled { return .some(CancellationError()) }
                    if deadline <= origin.advanced(by: state.elapsed) { return .some(nil) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return .none
                }
                if case .some(let error) = wakeNow {
                    if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward, waking (in deadline order) everyone whose deadline has come.
    public func advance(by duration: Duration) {
        advance(to: now.advanced(by: duration))
    }

    /// Moves time to the earliest sleeper's deadline and wakes it (and any due with it); false when nobody sleeps.
    @discardableResult
    public func advanceToNextDeadline() -> Bool {
        guard let deadline = nextDeadline else { return false }
        advance(to: deadline)
        return true
    }

    private func advance(to instant: Instant) {
        let due = state.withLock { state -> [Sleeper] in
            state.elapsed = max(state.elapsed, origin.duration(to: instant))
            let now = origin.advanced(by: state.elapsed)
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            return due.values.sorted { $0.deadline < $1.deadline }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
