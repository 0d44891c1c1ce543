import Testing
import SwitchboardWeb
import TestKit

/// Failed sign-ins per address in a sliding window, on a manual clock.
@Suite("Sign-in throttle")
struct SignInThrottleTests {
    @Test(
        "five failures in a minute refuse the address until the oldest is a minute old; other addresses are not touched"
    )
    func slidingWindow() {
        let clock = ManualClock()
        let throttle = SignInThrottle(limit: 5, window: .seconds(60), time: clock)
        for _ in 1...4 {
            throttle.failed("198.51.100.7")
            clock.advance(by: .seconds(10))
        }
        #expect(throttle.allows("198.51.100.7"), "four failures")
        throttle.failed("198.51.100.7")
        #expect(!throttle.allows("198.51.100.7"), "the fifth within the minute")
        #expect(throttle.allows("203.0.113.9"), "another address")
        clock.advance(by: .seconds(20))
        #expect(throttle.allows("198.51.100.7"), "the first failure is a minute old")
    }

    @Test("at most the configured number of addresses are remembered, the stalest forgotten first")
    func bounded() {
        let clock = ManualClock()
        let throttle = SignInThrottle(limit: 1, window: .seconds(60), maximumAddresses: 2, time: clock)
        throttle.failed("a")
        clock.advance(by: .seconds(1))
        throttle.failed("b")
        clock.advance(by: .seconds(1))
        throttle.failed("c")
        #expect(throttle.allows("a"), "forgotten: the stalest")
        #expect(!throttle.allows("b") && !throttle.allows("c"))
    }
}
