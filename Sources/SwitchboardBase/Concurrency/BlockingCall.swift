import Foundation

/// Runs blocking C calls (librdkafka close/flush, metadata queries) on a dedicated thread
/// so they never occupy Swift's cooperative pool.
public enum BlockingCall {
    /// Runs `body` on a new thread and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: body())
            }
            thread.name = "switchboard-blocking"
            thread.start()
        }
    }

    /// Runs a throwing `body` on a new thread.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = "switchboard-blocking"
            thread.start()
        }
    }
}
