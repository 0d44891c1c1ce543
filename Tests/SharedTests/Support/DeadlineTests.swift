import Foundation
import Testing
import SwitchboardBase
import TestSupport

/// `withDeadline`: the caller always gets an answer within the bound, even from an operation that never returns.
@Suite("withDeadline")
struct DeadlineTests {
    struct Late: Error {}

    @Test("an operation that finishes in time returns its value; its error passes through")
    func finishesInTime() async throws {
        let value = try await withDeadline(.seconds(5), timeoutError: { Late() }) { 42 }
        #expect(value == 42)
        await #expect(throws: CancellationError.self) {
            try await withDeadline(.seconds(5), timeoutError: { Late() }) { throw CancellationError() }
        }
    }

    @Test("an operation that ignores cancellation and never returns still ends the call at the deadline")
    func neverReturns() async throws {
        let release = DispatchSemaphore(value: 0)
        let operationEnded = LockedCounter()
        await #expect(throws: Late.self) {
            try await withDeadline(.milliseconds(200), timeoutError: { Late() }) {
                // Blocks a thread outside the cooperative pool and ignores cancellation, like a lost callback.
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().async {
                        release.wait()
                        operationEnded.increment()
                        continuation.resume()
                    }
                }
            }
        }
        #expect(operationEnded.count == 0, "the call waited for the operation instead of the deadline")
        release.signal()
    }

    @Test("cancelling the caller cancels the operation")
    func callerCancellation() async throws {
        let call = Task {
            try await withDeadline(.seconds(30), timeoutError: { Late() }) {
                try await Task.sleep(for: .seconds(30))
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
    }
}
