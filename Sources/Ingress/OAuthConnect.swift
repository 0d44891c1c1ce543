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

    /// Stores a fresh `state` for `accountId` (an earlier pending one is replaced) and returns the consent URL at
    /// `gorgiasBaseURL`.
    public static func begin(
        accountId: String, subdomain: String, gorgiasBaseURL: String, ingressURL: String, store: Store,
        box: SecretBox, app: GorgiasOAuthApp, now: Date = Date()
    ) async throws -> String {
        let state = AccountCredentials.newSecret()
        let base = ingressURL.hasSuffix("/") ? String(ingressURL.dropLast()) : ingressURL
        let redirect = base + callbackPath
        try await store.beginOAuthConnection(
            state: state,
            .init(
                accountId: accountId, subdomain: subdomain, redirectURI: redirect,
                expiresAt: now.addingTimeInterval(stateLifetime.seconds), sealedState: try box.seal(Data(state.utf8))))
        return app.authorizeURL(
            gorgiasBaseURL: gorgiasBaseURL, redirectURI: redirect, state: state, nonce: AccountCredentials.newSecret())
    }

    /// `GET /oauth/install?account=<subdomain>` (Gorgias' App Store "Connect App"): on to the consent screen with the
    /// state the operator's `accounts connect` began, neither replaced nor extended, so nobody can cancel or prolong
    /// a pending connection through this public link. A subdomain with nothing pending is answered alike (a redirect
    /// to its consent screen, with a state that was never stored), so the link does not tell which are pending.
    func install(subdomain: String, callbackURL: String) async throws -> Page {
        guard Self.isSubdomain(subdomain) else {
            return .refused(status: 400, "That is not a Gorgias helpdesk name.")
        }
        if let pending = try await store.pendingOAuthConnection(subdomain: subdomain),
            let sealed = pending.sealedState, let account = try await store.account(id: pending.accountId)
        {
            let state = String(decoding: try box.open(sealed), as: UTF8.self)
            return .redirect(
                app.authorizeURL(
                    gorgiasBaseURL: account.gorgiasBaseURL, redirectURI: pending.redirectURI, state: state,
                    nonce: AccountCredentials.newSecret()))
        }
        return .redirect(
            app.authorizeURL(
                gorgiasBaseURL: "https://\(subdomain).gorgias.com", redirectURI: callbackURL,
                state: AccountCredentials.newSecret(), nonce: AccountCredentials.newSecret()))
    }

    /// Gorgias helpdesk names: letters, digits and hyphens.
    static func isSubdomain(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 63 && text.first != "-"
            && text.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
            }
    }

    /// `GET /oauth/callback`: finishes the connection `state` began. The state is used up only by a code that
    /// connects; a declined consent, or a link without a code, leaves it for the merchant to try again. Nothing the
    /// provider or the link says is echoed back.
    func callback(_ query: [String: String]) async throws -> Page {
        let unknown = Page.refused(
            status: 400, "This connection link is unknown, expired or already used. Start again from Switchboard.")
        guard let state = query["state"], let pending = try await store.oauthConnection(state: state) else {
            return unknown
        }
        guard query["error"] == nil, let code = query["code"] else {
            logger.info("OAuth consent declined", metadata: [LogKeys.accountId: "\(pending.accountId)"])
            return .refused(
                status: 400, "Gorgias did not grant access; nothing changed. You can use the same link again.")
        }
        guard try await store.takeOAuthConnection(state: state) != nil else { return unknown }
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
            return .refused(
                status: 502, "Gorgias refused the connection; nothing was connected. Ask your Switchboard operator.")
        }
        logger.info("account connected through OAuth", metadata: [LogKeys.accountId: "\(account.id)"])
        return .done("Switchboard is connected to \(pending.subdomain). Your customers' texts now reach your helpdesk.")
    }

    /// The ingress' public URL a connection was begun with (its callback URL without the callback path).
    private static func ingressURL(of pending: Store.PendingOAuthConnection) -> String {
        String(pending.redirectURI.dropLast(callbackPath.count))
    }
}
