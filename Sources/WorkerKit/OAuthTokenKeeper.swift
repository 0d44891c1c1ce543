import Foundation
import Synchronization
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardStore
import SwitchboardBase

/// One OAuth account's Gorgias access token, kept valid for every process sharing the store.
///
/// A token is refreshed when less than ``refreshMargin(lifetime:)`` of its life is left, or when Gorgias refused it.
/// Refreshing happens under a store lease per account, one holder at a time, and every holder first re-reads the
/// stored credentials: a token another worker already refreshed is used as it is, so a refresh token Gorgias rotated
/// is never spent twice, and the rotated one is written before the lease is given up (merged into whatever the store
/// holds by then, so an operator's change to other credentials meanwhile does not drop it).
public final class OAuthTokenKeeper: GorgiasAccessTokens {
    private let accountId: String
    private let gorgiasBaseURL: String
    private let app: GorgiasOAuthApp
    private let store: Store
    private let box: SecretBox
    private let http: HTTPClient
    private let current: Mutex<AccountCredentials>
    private let time: any TimeSource

    /// How long one refresh may hold the account's lease (a crashed holder blocks the others this long at most).
    static let leaseDuration: Duration = .seconds(30)

    public init(
        account: Account, credentials: AccountCredentials, app: GorgiasOAuthApp, store: Store, box: SecretBox,
        http: HTTPClient, time: any TimeSource = .system
    ) {
        self.time = time
        self.accountId = account.id
        self.gorgiasBaseURL = account.gorgiasBaseURL
        self.app = app
        self.store = store
        self.box = box
        self.http = http
        self.current = Mutex(credentials)
    }

    public func accessToken() async throws -> String {
        let credentials = current.withLock { $0 }
        guard Self.isDue(credentials, now: time.date) else { return credentials.gorgiasOAuthToken ?? "" }
        return try await refresh(unlessStored: { !Self.isDue($0, now: time.date) })
    }

    public func replacing(_ rejected: String) async throws -> String {
        try await refresh(unlessStored: { $0.gorgiasOAuthToken != rejected && !Self.isDue($0, now: time.date) })
    }

    /// How early to refresh a token that lives `lifetime`: five minutes, or half its life if that is shorter.
    static func refreshMargin(lifetime: Duration) -> Duration { min(.seconds(300), lifetime / 2) }

    /// Whether `credentials`' access token should be refreshed now (never, when its expiry is unknown).
    static func isDue(_ credentials: AccountCredentials, now: Date) -> Bool {
        guard let expires = credentials.gorgiasTokenExpiresAt else { return false }
        let issued =
            credentials.gorgiasTokenIssuedAt ?? expires.addingTimeInterval(-GorgiasOAuthApp.defaultLifetime.seconds)
        let margin = refreshMargin(lifetime: .milliseconds(Int64(expires.timeIntervalSince(issued) * 1000)))
        return now >= expires.addingTimeInterval(-margin.seconds)
    }

    private func refresh(unlessStored fresh: (AccountCredentials) -> Bool) async throws -> String {
        let lease = "gorgias-oauth:\(accountId)"
        let holder = UUID().uuidString
        let deadline = time.now + Self.leaseDuration
        while true {
            let stored = try await storedCredentials().credentials
            if fresh(stored) { return adopt(stored) }
            if try await store.acquireLease(lease, holder: holder, for: Self.leaseDuration, now: time.date) {
                do {
                    let token = try await refreshHoldingLease(fresh: fresh)
                    try? await store.releaseLease(lease, holder: holder)
                    return token
                } catch {
                    try? await store.releaseLease(lease, holder: holder)
                    throw error
                }
            }
            guard time.now < deadline else {
                throw GorgiasError(
                    status: 503, message: "another worker's token refresh did not finish in time",
                    operation: "refresh OAuth token")
            }
            try await time.sleep(for: .milliseconds(200))  // another worker refreshes: wait for its result
        }
    }

    private func refreshHoldingLease(fresh: (AccountCredentials) -> Bool) async throws -> String {
        // Re-read under the lease: the previous holder may have finished between our read and our lease.
        var (sealed, credentials) = try await storedCredentials()
        if fresh(credentials) { return adopt(credentials) }
        guard let refreshToken = credentials.gorgiasRefreshToken else {
            throw GorgiasError(
                status: 401, message: "no refresh token stored; reconnect with switchboard accounts connect",
                operation: "refresh OAuth token")
        }
        let grant: GorgiasTokenGrant
        do {
            grant = try await app.refresh(refreshToken: refreshToken, gorgiasBaseURL: gorgiasBaseURL, http: http)
        } catch let error as GorgiasError where (400..<500).contains(error.status) && error.status != 429 {
            // The grant is gone (revoked, or the app uninstalled): a credentials problem, not a bad event.
            throw GorgiasError(
                status: 401, message: "refresh refused (\(error.message)); reconnect with switchboard accounts connect",
                operation: error.operation)
        }
        let now = time.date
        while true {
            credentials.gorgiasOAuthToken = grant.accessToken
            if let rotated = grant.refreshToken { credentials.gorgiasRefreshToken = rotated }
            credentials.gorgiasTokenIssuedAt = now
            credentials.gorgiasTokenExpiresAt = now.addingTimeInterval(
                (grant.expiresIn ?? GorgiasOAuthApp.defaultLifetime).seconds)
            if try await store.replaceCredentials(accountId: accountId, expected: sealed, with: credentials.sealed(box))
            {
                return adopt(credentials)
            }
            (sealed, credentials) = try await storedCredentials()  // changed meanwhile: merge the new tokens into it
        }
    }

    private func storedCredentials() async throws -> (sealed: String, credentials: AccountCredentials) {
        guard let account = try await store.account(id: accountId) else {
            throw GorgiasError(status: 401, message: "the account no longer exists", operation: "refresh OAuth token")
        }
        return (account.sealedCredentials, try account.credentials(box))
    }

    private func adopt(_ credentials: AccountCredentials) -> String {
        current.withLock { $0 = credentials }
        return credentials.gorgiasOAuthToken ?? ""
    }
}
