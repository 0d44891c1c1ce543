import Foundation
import Synchronization
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardSMS
import SwitchboardStore
import SwitchboardBase

/// Accounts with their API clients, cached briefly (credentials are decrypted once per refresh, not per event).
/// A disconnect or credential change reaches every worker within ``ttl``.
///
/// Only accounts that exist are cached, and at most ``capacity`` of them (the oldest entry goes first): an id that
/// is not an account id is refused before any lookup, and unknown ids are looked up every time rather than kept, so
/// requests for made-up accounts (the ingress faces the internet) cannot grow the cache.
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
    public let capacity: Int
    private let store: Store
    private let box: SecretBox
    private let http: HTTPClient
    private let limiter: any RateLimiter
    private let maximumRateWait: Duration
    private let oauthApp: GorgiasOAuthApp?
    private let time: any TimeSource
    private let cache = Mutex<[String: (entry: Entry, loadedAt: ContinuousClock.Instant)]>([:])

    public init(
        store: Store, box: SecretBox, http: HTTPClient, limiter: any RateLimiter, ttl: Duration = .seconds(10),
        maximumRateWait: Duration = .seconds(1),
        capacity: Int = 10_000, oauthApp: GorgiasOAuthApp? = nil, time: any TimeSource = .system
    ) {
        self.time = time
        self.capacity = capacity
        self.oauthApp = oauthApp
        self.store = store
        self.box = box
        self.http = http
        self.limiter = limiter
        self.ttl = ttl
        self.maximumRateWait = maximumRateWait
    }

    /// The account `id` with its clients, or nil when no such account exists (or `id` cannot be an account id).
    public func entry(_ id: String) async throws -> Entry? {
        guard Account.isValidId(id) else { return nil }
        if let cached = cache.withLock({ $0[id] }), time.now - cached.loadedAt < ttl { return cached.entry }
        guard let account = try await store.account(id: id) else {
            cache.withLock { _ = $0.removeValue(forKey: id) }
            return nil
        }
        let entry = try Self.entry(
            for: account, box: box, http: http, limiter: limiter, maximumRateWait: maximumRateWait,
            oauth: oauthApp.map { ($0, store) }, merges: store, time: time)
        cache.withLock { cache in
            if cache[id] == nil && cache.count >= capacity,
                let oldest = cache.min(by: { $0.value.loadedAt < $1.value.loadedAt })?.key
            {
                cache.removeValue(forKey: oldest)
            }
            cache[id] = (entry, time.now)
        }
        return entry
    }

    /// Accounts cached right now (a bound the ingress abuse suite checks).
    public var cachedCount: Int { cache.withLock { $0.count } }

    /// An account with clients authenticated as it, without caching (the CLI's one-off calls). With `oauth`, an
    /// account connected through OAuth (it has a refresh token) keeps its access token fresh through the store. With
    /// `merges`, a call Gorgias redirects from a merged ticket or customer re-points the conversations in that store
    /// (best effort: the importer also follows what the answer names).
    public static func entry(
        for account: Account, box: SecretBox, http: HTTPClient, limiter: any RateLimiter = UnlimitedRateLimiter(),
        maximumRateWait: Duration = .seconds(1), oauth: (app: GorgiasOAuthApp, store: Store)? = nil,
        merges store: Store? = nil, time: any TimeSource = .system
    ) throws -> Entry {
        let credentials = try account.credentials(box)
        let gorgiasCredentials: GorgiasCredentials =
            switch account.gorgiasAuthKind {
            case .oauth:
                if let oauth, credentials.gorgiasRefreshToken != nil {
                    .oauthSession(
                        OAuthTokenKeeper(
                            account: account, credentials: credentials, app: oauth.app, store: oauth.store, box: box,
                            http: http, time: time))
                } else {
                    .oauth(token: credentials.gorgiasOAuthToken ?? "")
                }
            case .apiKey: .apiKey(email: account.gorgiasEmail ?? "", key: credentials.gorgiasAPIKey ?? "")
            }
        return Entry(
            account: account,
            gorgias: GorgiasClient(
                baseURL: account.gorgiasBaseURL, credentials: gorgiasCredentials, accountId: account.id, http: http,
                limiter: limiter, maximumRateWait: maximumRateWait,
                merges: store.map { followMerges(in: $0, accountId: account.id) }
            ),
            sms: SMSClient(
                baseURL: account.smsBaseURL, accountSid: account.smsAccountSid, authToken: credentials.smsAuthToken,
                http: http),
            credentials: credentials
        )
    }

    /// Re-points `accountId`'s conversations in `store` when Gorgias redirects a call from a merged ticket or
    /// customer (best effort: a failure here leaves the importer's own follow-up to do it).
    private static func followMerges(in store: Store, accountId: String) -> @Sendable (GorgiasMerge) async -> Void {
        { merge in
            switch merge {
            case .ticket(let from, let to):
                try? await store.followMergedTicket(accountId: accountId, from: from, to: to)
            case .customer(let from, let to):
                try? await store.followMergedCustomer(accountId: accountId, from: from, to: to)
            }
        }
    }
}
