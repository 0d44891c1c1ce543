import Synchronization
import SwitchboardBase

/// The circuit breaker shared by all records of a worker; reports open/close transitions to one observer.
final class BreakerGate: Sendable {
    private let state: Mutex<CircuitBreaker>
    private let observer = Mutex<(@Sendable (CircuitBreaker.Transition) -> Void)?>(nil)
    private let time: any TimeSource

    init(settings: CircuitBreaker.Settings, time: any TimeSource = .system) {
        self.state = Mutex(CircuitBreaker(settings: settings))
        self.time = time
    }

    /// Sets who hears about transitions (the consumer, which pauses and resumes).
    func observe(_ handler: @escaping @Sendable (CircuitBreaker.Transition) -> Void) {
        observer.withLock { $0 = handler }
    }

    var isOpen: Bool { state.withLock { $0.isOpen } }

    /// A record of a topic that may use `dependencies` succeeded.
    func success(account: String?, dependencies: Set<ProcessingFailure.Dependency>) {
        if let transition = state.withLock({
            $0.recordSuccess(account: account, dependencies: dependencies, now: time.now)
        }
        ) {
            notify(transition)
        }
    }

    func failure(_ failure: ProcessingFailure, account: String?) {
        if let transition = state.withLock({
            $0.recordFailure(dependency: failure.dependency, account: account, now: time.now)
        }) {
            notify(transition)
        }
    }

    private func notify(_ transition: CircuitBreaker.Transition) {
        observer.withLock { $0 }?(transition)
    }
}
