import Synchronization

/// Which merchant accounts get their own `account` label value on per-account series: the first `limit` accounts a
/// process sees, by name; every later one is counted as `other`. A fleet with thousands of merchants (or keys made up
/// by whoever can write to a topic) cannot grow the series without bound, and a named series never changes its
/// meaning once it exists. Set the limit with `METRICS_ACCOUNT_LABELS`.
public final class AccountLabels: Sendable {
    public static let other = "other"
    public let limit: Int
    private let named = Mutex<Set<String>>([])

    public init(limit: Int) {
        self.limit = limit
    }

    /// The label value for `account`.
    public func label(_ account: String) -> String {
        named.withLock { named in
            if named.contains(account) { return account }
            guard named.count < limit, !account.isEmpty else { return Self.other }
            named.insert(account)
            return account
        }
    }
}
