import Foundation
import SwitchboardBase
import SwitchboardHTTP
import SwitchboardJSON

/// Switchboard as a Gorgias OAuth2 app: the consent URL, the code exchange, refreshes and revocation, all at the
/// merchant's own Gorgias (`https://<subdomain>.gorgias.com/oauth/…`). Scopes are Gorgias' granular ones
/// (contracts/gorgias/operations.json, "scopes"): `write:all` is deprecated and refused to new apps.
///
/// The token endpoint's shape is known from third-party code, so every answer is checked: no access token is an
/// error, and no refresh token (the app did not get scope `offline`) is refused at connect rather than found a day
/// later. A refresh that returns no new refresh token keeps the old one; one that returns a new one replaces it.
public struct GorgiasOAuthApp: Sendable {
    public var clientId: String
    /// Never printed (``description`` leaves it out).
    public var clientSecret: String
    /// Requested at consent; `offline` is what grants a refresh token.
    public var scopes: String

    /// Gorgias documents a 24-hour access token; used when a grant does not say.
    public static let defaultLifetime: Duration = .seconds(24 * 3600)
    /// What Switchboard's calls need (the account read proves credentials; customers, tickets with their messages
    /// and files, the HTTP integration), and `offline` for a refresh token.
    public static let requiredScopes: [String] = [
        "offline", "account:read", "customers:read", "customers:write", "tickets:read", "tickets:write",
        "integrations:read", "integrations:write",
    ]
    public static let defaultScopes = requiredScopes.joined(separator: " ")

    public init(clientId: String, clientSecret: String, scopes: String = Self.defaultScopes) {
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.scopes = scopes
    }

    /// The app configured by `GORGIAS_OAUTH_CLIENT_ID`, `GORGIAS_OAUTH_CLIENT_SECRET` and optionally
    /// `GORGIAS_OAUTH_SCOPES`; nil when neither id nor secret is set. One without the other fails, naming it.
    public static func from(_ environment: Environment) throws -> GorgiasOAuthApp? {
        func value(_ name: String) -> String? { environment.values[name].flatMap { $0.isEmpty ? nil : $0 } }
        switch (value("GORGIAS_OAUTH_CLIENT_ID"), value("GORGIAS_OAUTH_CLIENT_SECRET")) {
        case (nil, nil): return nil
        case (let id?, let secret?):
            let scopes = value("GORGIAS_OAUTH_SCOPES") ?? defaultScopes
            let listed = Set(scopes.split(separator: " ").map(String.init))
            if listed.contains("write:all") {
                throw ConfigurationError(
                    setting: "GORGIAS_OAUTH_SCOPES",
                    reason:
                        "write:all is deprecated and refused to new apps; list the granular scopes (\(defaultScopes))")
            }
            let missing = requiredScopes.filter { !listed.contains($0) }
            guard missing.isEmpty else {
                throw ConfigurationError(
                    setting: "GORGIAS_OAUTH_SCOPES",
                    reason:
                        "must include \(missing.joined(separator: " ")) (offline gives the refresh token; the others are the calls Switchboard makes)"
                )
            }
            return GorgiasOAuthApp(clientId: id, clientSecret: secret, scopes: scopes)
        case (nil, _):
            throw ConfigurationError(
                setting: "GORGIAS_OAUTH_CLIENT_ID", reason: "required with GORGIAS_OAUTH_CLIENT_SECRET")
        case (_, nil):
            throw ConfigurationError(
                setting: "GORGIAS_OAUTH_CLIENT_SECRET", reason: "required with GORGIAS_OAUTH_CLIENT_ID")
        }
    }

    /// Where to send the merchant to consent (`<gorgias>/oauth/authorize`).
    public func authorizeURL(gorgiasBaseURL: String, redirectURI: String, state: String, nonce: String) -> String {
        Self.trimmed(gorgiasBaseURL) + "/oauth/authorize?"
            + FormEncoding.encode([
                ("response_type", "code"), ("client_id", clientId), ("scope", scopes), ("redirect_uri", redirectURI),
                ("state", state), ("nonce", nonce),
            ])
    }

    /// Exchanges a consent's `code` for tokens; refuses a grant without a refresh token.
    public func exchange(code: String, redirectURI: String, gorgiasBaseURL: String, http: HTTPClient) async throws
        -> GorgiasTokenGrant
    {
        let grant = try await token(
            [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI)],
            gorgiasBaseURL: gorgiasBaseURL, http: http, operation: "exchange OAuth code")
        guard grant.refreshToken != nil else {
            throw GorgiasError(
                status: 200, message: "Gorgias granted no refresh token: the app must request scope offline",
                operation: "exchange OAuth code")
        }
        if let granted = grant.scopes {
            let missing = Self.requiredScopes.filter { !granted.contains($0) }
            guard missing.isEmpty else {
                throw GorgiasError(
                    status: 200, message: "Gorgias did not grant \(missing.joined(separator: " "))",
                    operation: "exchange OAuth code")
            }
        }
        return grant
    }

    /// A new access token for `refreshToken`.
    public func refresh(refreshToken: String, gorgiasBaseURL: String, http: HTTPClient) async throws
        -> GorgiasTokenGrant
    {
        try await token(
            [("grant_type", "refresh_token"), ("refresh_token", refreshToken)], gorgiasBaseURL: gorgiasBaseURL,
            http: http, operation: "refresh OAuth token")
    }

    /// Revokes `token` (RFC 7009 `<gorgias>/oauth/revoke`). Gorgias does not document revocation: returns false when
    /// the endpoint is missing (404/405), so the caller can say the token was only forgotten.
    public func revoke(token: String, hint: String, gorgiasBaseURL: String, http: HTTPClient) async throws -> Bool {
        let response = try await http.execute(
            APIRequest(
                method: "POST", url: Self.trimmed(gorgiasBaseURL) + "/oauth/revoke",
                headers: clientHeaders,
                body: Array(FormEncoding.encode([("token", token), ("token_type_hint", hint)]).utf8),
                service: "gorgias"))
        if response.status == 404 || response.status == 405 { return false }
        guard (200..<300).contains(response.status) else {
            throw GorgiasError.from(response, operation: "revoke OAuth token")
        }
        return true
    }

    private func token(
        _ form: [(String, String)], gorgiasBaseURL: String, http: HTTPClient, operation: String
    ) async throws -> GorgiasTokenGrant {
        let response = try await http.execute(
            APIRequest(
                method: "POST", url: Self.trimmed(gorgiasBaseURL) + "/oauth/token", headers: clientHeaders,
                body: Array(FormEncoding.encode(form).utf8), service: "gorgias"))
        let body = try? JSONParser.parse(response.body)
        guard (200..<300).contains(response.status) else {
            // OAuth errors are `{"error": "invalid_grant", "error_description": …}`, not Gorgias' API shape.
            let reason = [body?["error"]?.stringValue, body?["error_description"]?.stringValue].compactMap { $0 }
            let message = reason.isEmpty ? "HTTP \(response.status)" : reason.joined(separator: ": ")
            throw GorgiasError(status: response.status, message: String(message.prefix(300)), operation: operation)
        }
        guard let access = body?["access_token"]?.stringValue, !access.isEmpty else {
            throw GorgiasError(status: response.status, message: "the answer has no access_token", operation: operation)
        }
        let refresh = body?["refresh_token"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let expiresIn = body?["expires_in"]?.doubleValue.map { Duration.milliseconds(Int64($0 * 1000)) }
        let scopes = body?["scope"]?.stringValue.map { Set($0.split(separator: " ").map(String.init)) }
        return GorgiasTokenGrant(accessToken: access, refreshToken: refresh, expiresIn: expiresIn, scopes: scopes)
    }

    private var clientHeaders: [(String, String)] {
        [
            ("Authorization", "Basic " + Data("\(clientId):\(clientSecret)".utf8).base64EncodedString()),
            ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
        ]
    }

    private static func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
}

extension GorgiasOAuthApp: CustomStringConvertible {
    public var description: String { "GorgiasOAuthApp(clientId: \(clientId), secret: redacted)" }
}

/// What Gorgias' token endpoint granted. `description` never shows the tokens.
public struct GorgiasTokenGrant: Sendable, CustomStringConvertible {
    public var accessToken: String
    public var refreshToken: String?
    /// The access token's lifetime, when the grant says.
    public var expiresIn: Duration?
    /// The scopes granted, when the grant says.
    public var scopes: Set<String>?

    public init(accessToken: String, refreshToken: String?, expiresIn: Duration?, scopes: Set<String>? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn
        self.scopes = scopes
    }

    public var description: String {
        "GorgiasTokenGrant(redacted, expiresIn: \(expiresIn.map { "\($0)" } ?? "unknown"))"
    }
}
