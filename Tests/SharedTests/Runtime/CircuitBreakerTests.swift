import Testing
@testable import SwitchboardRuntime
import SwitchboardBase

/// The circuit breaker's rules without a broker: when it opens, and which successes close it.
@Suite("Circuit breaker")
struct CircuitBreakerTests {
    let now = ContinuousClock.now

    @Test("opens after the threshold of one dependency's failures across accounts; a success that used it closes it")
    func opensAndCloses() {
        var breaker = CircuitBreaker(settings: .init(threshold: 3))
        #expect(breaker.recordFailure(dependency: .gorgias, account: "a", now: now) == nil)
        #expect(breaker.recordFailure(dependency: .gorgias, account: "b", now: now) == nil)
        #expect(breaker.recordFailure(dependency: .gorgias, account: "a", now: now) == .opened(.gorgias))
        #expect(breaker.isOpen)
        #expect(breaker.recordSuccess(account: "a", dependencies: [.gorgias, .store], now: now) == .closed)
        #expect(!breaker.isOpen)
    }

    @Test(
        "a success of a record that never calls the failing dependency neither closes its circuit nor resets its count")
    func unrelatedSuccess() {
        var breaker = CircuitBreaker(settings: .init(threshold: 2))
        _ = breaker.recordFailure(dependency: .gorgias, account: "a", now: now)
        #expect(breaker.recordSuccess(account: "a", dependencies: [.store, .sms], now: now) == nil)
        #expect(
            breaker.recordFailure(dependency: .gorgias, account: "b", now: now) == .opened(.gorgias),
            "the count survived the STOP's success")
        #expect(breaker.recordSuccess(account: "a", dependencies: [.store, .sms], now: now) == nil)
        #expect(breaker.isOpen, "a STOP handled without Gorgias does not close Gorgias' circuit")
    }

    @Test("failures of one account alone never open it while other accounts are active")
    func oneAccount() {
        var breaker = CircuitBreaker(settings: .init(threshold: 2))
        _ = breaker.recordSuccess(account: "other", now: now)
        #expect(breaker.recordFailure(dependency: .gorgias, account: "a", now: now) == nil)
        #expect(breaker.recordFailure(dependency: .gorgias, account: "a", now: now) == nil)
        #expect(breaker.recordFailure(dependency: .gorgias, account: "a", now: now) == nil)
        #expect(!breaker.isOpen)
    }

    @Test(
        "accounts idle beyond the activity window are forgotten in batches: a hundred active merchants do not make every record rebuild the table"
    )
    func activeAccountsPruneInBatches() {
        var breaker = CircuitBreaker(settings: .init(threshold: 3, activityWindow: .seconds(60)))
        for index in 0..<100 { _ = breaker.recordSuccess(account: "m\(index)", now: now) }
        #expect(breaker.activeAccounts.count == 100, "all active: none forgotten")
        #expect(breaker.pruneActiveAt == 130, "pruned once, at 65, and not again until twice that")
        let later = now + .seconds(61)
        for index in 0..<31 { _ = breaker.recordSuccess(account: "n\(index)", now: later) }
        #expect(breaker.activeAccounts.count == 31, "the first hundred went idle and were forgotten at 131")
        #expect(breaker.pruneActiveAt == 64)
    }
}
