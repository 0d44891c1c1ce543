import Dispatch
import Synchronization

/// A one-shot event: `signal()` once from any thread; any number of async or blocking waiters.
///
/// Async waits return early (without error) when their task is cancelled.
public final class AsyncEvent: Sendable {
    private struct State {
        var signalled = false
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())
    private let semaphore = DispatchSemaphore(value: 0)

    public init() {}

    public var isSignalled: Bool { state.withLock { $0.signalled } }

    /// Fires the event, resuming every waiter. Later calls do nothing.
    public func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.signalled else { return [] }
            state.signalled = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        semaphore.signal()
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until the event fires or the task is cancelled.
    public func wait() async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.signalled || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// Waits until the event fires or `timeout` passes on `time`'s monotonic clock. Returns whether it fired.
    public func wait(timeout: Duration, time: any TimeSource) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.wait()
                return self.isSignalled
            }
            group.addTask {
                try? await time.sleep(for: timeout)
                return self.isSignalled
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || isSignalled
        }
    }

    /// Waits until the event fires or `timeout` passes. Returns whether it fired.
    public func wait(timeout: Duration) async -> Bool {
        await wait(timeout: timeout, time: .system)
    }

    /// Blocks the calling (non-cooperative) thread until the event fires or `timeout` passes.
    public func blockingWait(timeout: Duration) -> Bool {
        if isSignalled { return true }
        let deadline = DispatchTime.now() + .milliseconds(Int(timeout.milliseconds))
        if semaphore.wait(timeout: deadline) == .success {
            semaphore.signal()  // let other blocking waiters through too
            return true
        }
        return isSignalled
    }
}
