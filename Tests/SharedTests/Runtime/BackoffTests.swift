import Testing
import SwitchboardRuntime

@Suite("Backoff")
struct BackoffTests {
    @Test("attempt n waits within [base·2ⁿ⁻¹/2, base·2ⁿ⁻¹], capped at the maximum")
    func bounds() {
        let backoff = Backoff(base: .milliseconds(100), maximum: .seconds(1))
        for (attempt, ceiling) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (30, 1000)] {
            for _ in 0..<200 {
                let delay = backoff.delay(attempt: attempt)
                #expect(
                    delay >= .milliseconds(ceiling / 2) && delay <= .milliseconds(ceiling),
                    "attempt \(attempt): \(delay)")
            }
        }
    }

    @Test("jitter spreads the waits (full jitter, not a fixed step)")
    func jitter() {
        let delays = Set((0..<50).map { _ in Backoff().delay(attempt: 3) })
        #expect(delays.count > 10)
    }

    @Test("a floor such as Retry-After is never undercut")
    func floor() {
        #expect(Backoff().delay(attempt: 1, floor: .seconds(7)) == .seconds(7))
    }
}
