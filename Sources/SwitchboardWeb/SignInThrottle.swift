import Foundation
import Synchronization
import SwitchboardBase

/// Failed sign-ins per client address in a sliding window: past `limit` failures within `window`, the address is
/// refused until the oldest falls out. Kept per process (a replica's share of an attacker's guesses is what it
/// throttles), and bounded: at most `maximumAddresses` are remembered, the stalest forgotten first.
public final class SignInThrottle: Sendable {
    public let limit: Int
    public let window: Duration
    private let maximumAddresses: Int
    private let failures = Mutex<[String: [ContinuousClock.Instant]]>([:])
    private let time: any TimeSource

    public init(
        limit: Int = 5, window: Duration = .seconds(60), maximumAddresses: Int = 10_000,
        time: any TimeSource = .system
    ) {
        self.limit = limit
        self.window = window
        self.maximumAddresses = maximumAddresses
        self.time = time
    }

    /// Whether `address` may try to sign in now.
    public func allows(_ address: String) -> Bool {
        let now = time.now
        return failures.withLock { $0[address, default: []].filter { now - $0 < window }.count < limit }
    }

    /// A failed attempt from `address`.
    public func failed(_ address: String) {
        let now = time.now
        failures.withLock { failures in
            var recent = failures[address, default: []].filter { now - $0 < window }
            recent.append(now)
            failures[address] = recent
            if failures.count > maximumAddresses,
                let stalest = failures.min(by: { ($0.value.last ?? now) < ($1.value.last ?? now) })?.key
            {
                failures.removeValue(forKey: stalest)
            }
        }
    }
}
