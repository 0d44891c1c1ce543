import Foundation
import Synchronization

/// Accounts with their API clients, cached briefly (credentials are decrypted once per refresh, not per event).
/// A disconnect or credential change reaches every worker within ``ttl``.
public final class AccountDirectory: Sendable {
    /// An account and clients authenticated as it.
    public struct Entry: Sendable {
        public let account: Account
        public let gorgias: GorgiasClient
        public let sms: SMSClient
        /// The opened credentials (the ingress checks webhook signatures with them). Never printed.
        public let credentials: AccountCredentials
    }

    public let ttl: Duration
    private let store: Store
    private let box: SecretBox
    private let http: HTTPClient
    private let limiter: any RateLimiter
    private let maximumRateWait: Duration
    private let cache = Mutex<[String: (entry: Entry?, loadedAt: ContinuousClock.Instant)]>([:])

    public init(store: Store, box: SecretBox, http: HTTPClient, limiter: any RateLimiter, ttl: Duration = .seconds(10), maximumRateWait: Duration = .seconds(1)) {
        self.store = store
        self.box = box
        self.http = http
        self.limiter = limiter
        self.ttl = ttl
        self.maximumRateWait = maximumRateWait
    }

    /// The account `id` with its clients, or nil when no such account exists.
    public func entry(_ id: String) async throws -> Entry? {
        if let cached = cache.withLock({ $0[id] }), ContinuousClock.now - cached.loadedAt < ttl { return cached.entry }
        let entry = try await store.account(id: id).map { try Self.entry(for: $0, box: box, http: http, limiter: limiter, maximumRateWait: maximumRateWait) }
        cache.withLock { $0[id] = (entry, .now) }
        return entry
    }

    /// An account with clients authenticated as it, without caching (the CLI's one-off calls).
    public static func entry(
        for account: Account, box: SecretBox, http: HTTPClient, limiter: any RateLimiter = UnlimitedRateLimiter(), maximumRateWait: Duration = .seconds(1)
    ) throws -> Entry {
        let credentials = try account.credentials(box)
        let gorgiasCredentials: GorgiasCredentials =
            switch account.gorgiasAuthKind {
            case .oauth: .oauth(token: credentials.gorgiasOAuthToken ?? "")
            case .apiKey: .apiKey(email: account.gorgiasEmail ?? "", key: credentials.gorgiasAPIKey ?? "")
            }
        return Entry(
            account: account,
            gorgias: GorgiasClient(
                baseURL: account.gorgiasBaseURL, credentials: gorgiasCredentials, accountId: account.id, http: http,
                limiter: limiter, maximumRateWait: maximumRateWait
            ),
            sms: SMSClient(baseURL: account.smsBaseURL, accountSid: account.smsAccountSid, authToken: credentials.smsAuthToken, http: http),
            credentials: credentials
        )
    }
}
