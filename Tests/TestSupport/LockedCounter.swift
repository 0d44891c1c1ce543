import Synchronization

/// A thread-safe counter for tests that count across tasks.
public final class LockedCounter: Sendable {
    private let value = Mutex(0)

    public init() {}

    public func increment() { value.withLock { $0 += 1 } }
    public var count: Int { value.withLock { $0 } }
}

/// A value shared across tasks, behind a lock.
public final class LockedBox<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    public init(_ value: Value) { self.value = Mutex(value) }

    public func withLock<Result>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
}
