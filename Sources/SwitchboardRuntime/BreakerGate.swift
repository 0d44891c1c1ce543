import Synchronization
import SwitchboardBase

/// The circuit breaker shared by all records of a worker. Its open/close transitions are events on
/// ``transitions``, in the order they happened (the consumer pauses and resumes on them).
final class BreakerGate: Sendable {
    private let state: Mutex<CircuitBreaker>
    private let time: any TimeSource
    /// Every transition, in order; read by one consumer.
    let transitions: AsyncStream<CircuitBreaker.Transition>
    private let continuation: AsyncStream<CircuitBreaker.Transition>.Continuation

    init(settings: CircuitBreaker.Settings, time: any TimeSource = .system) {
        self.state = Mutex(CircuitBreaker(settings: settings))
        self.time = time
        (transitions, continuation) = AsyncStream.makeStream()
    }

    deinit { continuation.finish() }

    var isOpen: Bool { state.withLock { $0.isOpen } }

    /// A record of a topic that may use `dependencies` succeeded.
    func success(account: String?, dependencies: Set<ProcessingFailure.Dependency>) {
        state.withLock {
            // Yielded under the lock, so transitions reach the stream in the order they happened.
            if let transition = $0.recordSuccess(account: account, dependencies: dependencies, now: time.now) {
                continuation.yield(transition)
            }
        }
    }

    func failure(_ failure: ProcessingFailure, account: String?) {
        state.withLock {
            if let transition = $0.recordFailure(dependency: failure.dependency, account: account, now: time.now) {
                continuation.yield(transition)
            }
        }
    }
}
