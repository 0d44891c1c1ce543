import Synchronization

/// A thread-safe counter for tests that count across tasks.
public final class LockedCounter: Sendable {
    private let value = Mutex(0)

    public init() {}

    public func increment() { value.withLock { $0 += 1 } }
    public var count: Int { value.withLock { $0 } }
}
