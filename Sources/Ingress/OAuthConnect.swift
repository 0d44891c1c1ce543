import Foundation
import Logging
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardObservability
import SwitchboardStore
import SwitchboardBase

/// Connecting a merchant through Gorgias' OAuth app flow (contracts/gorgias/operations.json, "scopes"), with the ingress as the app's URL:
/// 1. `switchboard accounts connect` stores the account (its SMS side checked) and ``begin(accountId:subdomain:
///    ingressURL:store:app:gorgiasBaseURL:)`` a single-use `state`, and prints the consent URL; Gorgias' App Store
///    "Connect App" button lands on `GET /oauth/install?account=<subdomain>` instead, which begins again for the
///    account awaiting that subdomain.
/// 2. The merchant consents on their Gorgias; Gorgias redirects to `GET /oauth/callback?code=…&state=…`.
/// 3. ``callback(_:)`` takes the state (unknown, used or expired states are refused: CSRF), exchanges the code,
///    proves the token with one read, stores the tokens sealed, registers the HTTP integration and connects the account.
public struct OAuthConnect: Sendable {
    /// How long a consent URL stays usable.
    public static let stateLifetime: Duration = .seconds(30 * 60)
    public static let callbackPath = "/oauth/callback"

    let app: GorgiasOAuthApp
    let store: Store
    let box: SecretBox
    let http: HTTPClient
    let logger: Logger

    public init(app: GorgiasOAuthApp, store: Store, box: SecretBox, http: HTTPClient, logger: Logger) {
        self.app = app
        self.store = store
        self.box = box
        self.http = http
        self.logger = logger
    }

    /// What the merchant's browser is shown or sent to.
    public enum Page: Sendable, Equatable {
        case redirect(String)
        case done(String)
        case refused(status: Int, String)
    }

    /// Stores a fresh `state` for `accountId` and returns the consent URL at `gorgiasBaseURL`.
    public static func begin(
        accountId: String, subdomain: String, gorgiasBaseURL: String, ingressURL: String, store: Store,
        app: GorgiasOAuthApp
    ) async throws -> String {
        let state = AccountCredentials.newSecret()
        let base = ingressURL.hasSuffix("/") ? String(ingressURL.dropLast()) : ingressURL
        let redirect = base + callbackPath
        try await store.beginOAuthConnection(
            state: state,
            .init(
                accountId: accountId, subdomain: subdomain, redirectURI: redirect,
                expiresAt: Date().addingTimeInterval(stateLifetime.seconds)))
        return app.authorizeURL(
            gorgiasBaseURL: gorgiasBaseURL, redirectURI: redirect, state: state, nonce: AccountCredentials.newSecret())
    }

    /// `GET /oauth/install?account=<subdomain>`: on to the consent screen for the account awaiting that subdomain.
    func install(subdomain: String) async throws -> Page {
        guard let pending = try await store.pendingOAuthConnection(subdomain: subdomain),
            let account = try await store.account(id: pending.accountId)
        else {
            return .refused(
                status: 404,
                "No Switchboard account is waiting to be connected to \(subdomain). Ask your Switchboard operator to run switchboard accounts connect first."
            )
        }
        return .redirect(
            try await Self.begin(
                accountId: account.id, subdomain: subdomain, gorgiasBaseURL: account.gorgiasBaseURL,
                ingressURL: Self.ingressURL(of: pending), store: store, app: app))
    }

    /// `GET /oauth/callback`: finishes the connection `state` began.
    func callback(_ query: [String: String]) async throws -> Page {
        guard let state = query["state"], let pending = try await store.takeOAuthConnection(state: state) else {
            return .refused(
                status: 400, "This connection link is unknown, expired or already used. Start again from Switchboard.")
        }
        guard query["error"] == nil, let code = query["code"] else {
            logger.info("OAuth consent declined", metadata: [LogKeys.accountId: "\(pending.accountId)"])
            return .refused(
                status: 400, "Gorgias did not grant access (\(query["error"] ?? "no code")); nothing changed.")
        }
        guard var account = try await store.account(id: pending.accountId) else {
            return .refused(status: 404, "The Switchboard account was removed meanwhile; nothing was stored.")
        }
        do {
            let grant = try await app.exchange(
                code: code, redirectURI: pending.redirectURI, gorgiasBaseURL: account.gorgiasBaseURL, http: http)
            try await GorgiasClient(
                baseURL: account.gorgiasBaseURL, credentials: .oauth(token: grant.accessToken), accountId: account.id,
                http: http, limiter: UnlimitedRateLimiter()
            ).checkCredentials()
            var credentials = try account.credentials(box)
            let now = Date()
            credentials.gorgiasAPIKey = nil
            credentials.gorgiasOAuthToken = grant.accessToken
            credentials.gorgiasRefreshToken = grant.refreshToken
            credentials.gorgiasTokenIssuedAt = now
            credentials.gorgiasTokenExpiresAt = now.addingTimeInterval(
                (grant.expiresIn ?? GorgiasOAuthApp.defaultLifetime).seconds)
            account.gorgiasAuthKind = .oauth
            account.gorgiasEmail = nil
            account.sealedCredentials = try credentials.sealed(box)
            account.updatedAt = now
            try await store.updateAccount(account)
            try await IngressRegistration.connect(
                accountId: account.id, ingressURL: Self.ingressURL(of: pending), store: store, box: box, http: http)
            try await store.setAccountStatus(id: account.id, .connected)
        } catch let error as GorgiasError {
            logger.warning(
                "OAuth connect failed", metadata: [LogKeys.accountId: "\(account.id)", LogKeys.reason: "\(error)"])
            return .refused(status: 502, "Gorgias refused the connection: \(error.message). Nothing was connected.")
        }
        logger.info("account connected through OAuth", metadata: [LogKeys.accountId: "\(account.id)"])
        return .done("Switchboard is connected to \(pending.subdomain). Your customers' texts now reach your helpdesk.")
    }

    /// The ingress' public URL a connection was begun with (its callback URL without the callback path).
    private static func ingressURL(of pending: Store.PendingOAuthConnection) -> String {
        String(pending.redirectURI.dropLast(callbackPath.count))
    }
}
