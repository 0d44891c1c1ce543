import Foundation
import Testing
import ProviderContracts
import SwitchboardBase
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardHTTP
@testable import WorkerKit

/// The rules of Gorgias OAuth that need no I/O: when a token is refreshed, and what configuration is accepted.
@Suite("Gorgias OAuth rules")
struct GorgiasOAuthRulesTests {
    func credentials(issued: Date?, expires: Date?) -> AccountCredentials {
        var credentials = AccountCredentials(gorgiasOAuthToken: "token", smsAuthToken: "sms")
        credentials.gorgiasRefreshToken = "refresh"
        credentials.gorgiasTokenIssuedAt = issued
        credentials.gorgiasTokenExpiresAt = expires
        return credentials
    }

    @Test("a 24-hour token is refreshed in its last five minutes; a 6-second one in its last three")
    func refreshMargin() {
        let issued = Date(timeIntervalSince1970: 1_000_000)
        let day = credentials(issued: issued, expires: issued + 86_400)
        #expect(!OAuthTokenKeeper.isDue(day, now: issued + 86_400 - 301))
        #expect(OAuthTokenKeeper.isDue(day, now: issued + 86_400 - 299))
        let short = credentials(issued: issued, expires: issued + 6)
        #expect(!OAuthTokenKeeper.isDue(short, now: issued + 2.9))
        #expect(OAuthTokenKeeper.isDue(short, now: issued + 3.1))
        #expect(OAuthTokenKeeper.isDue(short, now: issued + 10))  // expired: certainly
    }

    @Test("a token whose expiry is unknown is never refreshed ahead of time (only when Gorgias refuses it)")
    func unknownExpiry() {
        #expect(!OAuthTokenKeeper.isDue(credentials(issued: nil, expires: nil), now: .distantFuture))
    }

    @Test(
        "the OAuth app is optional, needs both id and secret; its scopes are Gorgias' granular ones, offline included, never the deprecated write:all"
    )
    func configuration() throws {
        #expect(try GorgiasOAuthApp.from(Environment([:])) == nil)
        let app = try #require(
            try GorgiasOAuthApp.from(
                Environment(["GORGIAS_OAUTH_CLIENT_ID": "id", "GORGIAS_OAUTH_CLIENT_SECRET": "s3cr3t-value"])))
        #expect(!"\(app)".contains("s3cr3t-value"))
        let scopes = Set(app.scopes.split(separator: " ").map(String.init))
        #expect(scopes.contains("offline") && scopes.contains("integrations:write") && !scopes.contains("write:all"))
        // Every default scope is one Gorgias' scope page lists (contracts/gorgias/operations.json).
        let documented = try ProviderContracts.repository().gorgias.documentedScopes
        #expect(scopes.isSubset(of: documented), "\(scopes.subtracting(documented))")
        #expect {
            try GorgiasOAuthApp.from(Environment(["GORGIAS_OAUTH_CLIENT_ID": "id"]))
        } throws: { "\($0)".contains("GORGIAS_OAUTH_CLIENT_SECRET") }
        #expect {
            try GorgiasOAuthApp.from(Environment(["GORGIAS_OAUTH_CLIENT_SECRET": "secret"]))
        } throws: { "\($0)".contains("GORGIAS_OAUTH_CLIENT_ID") }
        #expect {
            try GorgiasOAuthApp.from(
                Environment([
                    "GORGIAS_OAUTH_CLIENT_ID": "id", "GORGIAS_OAUTH_CLIENT_SECRET": "secret",
                    "GORGIAS_OAUTH_SCOPES": "write:all",
                ]))
        } throws: { "\($0)".contains("GORGIAS_OAUTH_SCOPES") && "\($0)".contains("deprecated") }
        #expect {
            try GorgiasOAuthApp.from(
                Environment([
                    "GORGIAS_OAUTH_CLIENT_ID": "id", "GORGIAS_OAUTH_CLIENT_SECRET": "secret",
                    "GORGIAS_OAUTH_SCOPES": "tickets:read tickets:write",
                ]))
        } throws: { "\($0)".contains("GORGIAS_OAUTH_SCOPES") && "\($0)".contains("offline") }
    }

    @Test("the consent URL carries the app, the scopes, the callback and the state, and never the secret")
    func consentURL() throws {
        let app = GorgiasOAuthApp(clientId: "app-id", clientSecret: "app-secret")
        let url = app.authorizeURL(
            gorgiasBaseURL: "https://acme.gorgias.com/", redirectURI: "https://in.example/oauth/callback",
            state: "s1", nonce: "n1")
        #expect(url.hasPrefix("https://acme.gorgias.com/oauth/authorize?"))
        let query = Dictionary(
            FormEncoding.decode(String(url.split(separator: "?", maxSplits: 1)[1])), uniquingKeysWith: { a, _ in a })
        #expect(query["client_id"] == "app-id" && query["response_type"] == "code" && query["state"] == "s1")
        #expect(query["redirect_uri"] == "https://in.example/oauth/callback")
        #expect(query["scope"] == GorgiasOAuthApp.defaultScopes)
        #expect(!url.contains("app-secret"))
    }
}
