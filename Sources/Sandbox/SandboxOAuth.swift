import Foundation
import SwitchboardBase
import HTTPTypes
import Hummingbird
import Synchronization
import SwitchboardDomain
import SwitchboardHTTP
import SwitchboardJSON

/// Gorgias' OAuth2 app flow as the sandbox's Gorgias serves it, at `/gorgias/<subdomain>/oauth/…` like
/// `https://<subdomain>.gorgias.com/oauth/…`: the consent screen (approved at once, or Allow and Deny links when
/// `oauthAutoApprove` is off), the code exchange and refresh at `/oauth/token` (client credentials in HTTP Basic, a
/// form body) and RFC 7009 revocation at `/oauth/revoke`. Access tokens expire after `oauthTokenLifetimeSeconds`;
/// with `oauthRotatesRefreshTokens` a refresh invalidates the refresh token it used.
struct SandboxOAuth: Sendable {
    let server: SandboxServer

    func register(on router: Router<BasicRequestContext>) {
        router.get("gorgias/:subdomain/oauth/authorize") { request, context in
            authorize(request, subdomain: context.parameters.get("subdomain") ?? "")
        }
        router.post("gorgias/:subdomain/oauth/token") { request, context in
            try await token(request, subdomain: context.parameters.get("subdomain") ?? "")
        }
        router.post("gorgias/:subdomain/oauth/revoke") { request, context in
            try await revoke(request, subdomain: context.parameters.get("subdomain") ?? "")
        }
    }

    private func authorize(_ request: Request, subdomain: String) -> Response {
        let query = FormEncoding.fields(request.uri.query ?? "")
        guard query["client_id"] == server.configuration.oauthClientId, query["response_type"] == "code",
            let redirect = query["redirect_uri"], !redirect.isEmpty, let state = query["state"], !subdomain.isEmpty
        else {
            return Self.oauthError(400, "invalid_request")
        }
        // Gorgias' granular scopes only: `write:all` is deprecated and refused to a new app (contracts/gorgias/
        // operations.json, "scopes"), and an unknown scope is an error, as RFC 6749 §4.1.2.1 says.
        let scopes = (query["scope"] ?? "").split(separator: " ").map(String.init)
        if scopes.isEmpty || scopes.contains(where: { !GorgiasScopes.documented.contains($0) }) {
            return Self.redirect(redirect, [("error", "invalid_scope"), ("state", state)])
        }
        if query["approve"] == "no" { return Self.redirect(redirect, [("error", "access_denied"), ("state", state)]) }
        let approved = query["approve"] == "yes" || server.state.withLock { $0.faults.oauthAutoApprove }
        guard approved else { return Self.consentPage(subdomain: subdomain, query: query) }
        let code = "gac_" + AccountCredentials.newSecret()
        server.state.withLock {
            $0.oauthCodes[code] = OAuthCode(
                subdomain: subdomain, redirectURI: redirect, expiresAt: Date().addingTimeInterval(60), scopes: scopes)
        }
        return Self.redirect(redirect, [("code", code), ("state", state)])
    }

    private func token(_ request: Request, subdomain: String) async throws -> Response {
        guard authenticatesClient(request) else { return Self.oauthError(401, "invalid_client") }
        let form = FormEncoding.fields(String(decoding: try await SandboxControlRoutes.body(request), as: UTF8.self))
        return server.state.withLock { state -> Response in
            let now = Date()
            switch form["grant_type"] {
            case "authorization_code":
                guard let code = form["code"], let issued = state.oauthCodes.removeValue(forKey: code),
                    issued.subdomain == subdomain, issued.redirectURI == form["redirect_uri"], issued.expiresAt > now
                else { return Self.oauthError(400, "invalid_grant") }
                // Consent is given on the merchant's own helpdesk: the sandbox creates it if it is new.
                var account =
                    state.gorgias[subdomain]
                    ?? GorgiasAccount(subdomain: subdomain, email: nil, apiKey: nil, oauthToken: nil)
                account.bucket = LeakyBucket(capacity: 80)
                account.oauthExchanges += 1
                let reply = grant(&account, state.faults, now: now, refresh: true, scopes: issued.scopes ?? [])
                state.gorgias[subdomain] = account
                return reply
            case "refresh_token":
                guard let refresh = form["refresh_token"], var account = state.gorgias[subdomain],
                    account.refreshTokens.contains(refresh)
                else { return Self.oauthError(400, "invalid_grant") }
                account.oauthRefreshes += 1
                let rotate = state.faults.oauthRotatesRefreshTokens
                let scopes = account.tokenScopes?[refresh] ?? []
                if rotate { account.refreshTokens.remove(refresh) }
                let reply = grant(&account, state.faults, now: now, refresh: rotate, scopes: scopes)
                state.gorgias[subdomain] = account
                return reply
            default:
                return Self.oauthError(400, "unsupported_grant_type")
            }
        }
    }

    private func revoke(_ request: Request, subdomain: String) async throws -> Response {
        guard authenticatesClient(request) else { return Self.oauthError(401, "invalid_client") }
        let form = FormEncoding.fields(String(decoding: try await SandboxControlRoutes.body(request), as: UTF8.self))
        let token = form["token"] ?? ""
        server.state.withLock { state in
            guard var account = state.gorgias[subdomain] else { return }
            let known =
                account.accessTokens.removeValue(forKey: token) != nil || account.refreshTokens.remove(token) != nil
            if known { account.oauthRevocations += 1 }
            state.gorgias[subdomain] = account
        }
        return Response(status: .ok)  // RFC 7009: an unknown token is not an error
    }

    /// Issues an access token with `scopes` (and a refresh token when `refresh` and `offline` was granted) and
    /// answers with the grant.
    private func grant(
        _ account: inout GorgiasAccount, _ faults: SandboxFaults, now: Date, refresh: Bool, scopes: [String]
    ) -> Response {
        let access = "gat_" + AccountCredentials.newSecret()
        account.accessTokens = account.accessTokens.filter { $0.value > now }
        account.accessTokens[access] = now.addingTimeInterval(faults.oauthTokenLifetimeSeconds)
        var granted = (account.tokenScopes ?? [:]).filter {
            account.accessTokens[$0.key] != nil || account.refreshTokens.contains($0.key)
        }
        granted[access] = scopes
        var body: [String: JSONValue] = [
            "access_token": .string(access), "token_type": "Bearer",
            "expires_in": .double(faults.oauthTokenLifetimeSeconds),
            "scope": .string(scopes.joined(separator: " ")),
        ]
        if refresh && scopes.contains("offline") {
            let token = "grt_" + AccountCredentials.newSecret()
            account.refreshTokens.insert(token)
            granted[token] = scopes
            body["refresh_token"] = .string(token)
        }
        account.tokenScopes = granted
        return SandboxServer.response(.json(200, .object(body)))
    }

    private func authenticatesClient(_ request: Request) -> Bool {
        guard let header = request.headers[.authorization], header.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)))
        else { return false }
        return String(decoding: decoded, as: UTF8.self)
            == "\(server.configuration.oauthClientId):\(server.configuration.oauthClientSecret)"
    }

    private static func redirect(_ target: String, _ parameters: [(String, String)]) -> Response {
        let separator = target.contains("?") ? "&" : "?"
        var headers = HTTPFields()
        headers[.location] = target + separator + FormEncoding.encode(parameters)
        return Response(status: .found, headers: headers)
    }

    private static func oauthError(_ status: Int, _ error: String) -> Response {
        SandboxServer.response(.json(status, ["error": .string(error)]))
    }

    /// The consent screen with Allow and Deny links (the same request with `approve=yes|no`).
    private static func consentPage(subdomain: String, query: [String: String]) -> Response {
        func link(_ answer: String) -> String {
            "?"
                + FormEncoding.encode(
                    query.filter { $0.key != "approve" }.sorted { $0.key < $1.key } + [("approve", answer)])
        }
        let page = """
            <!doctype html><html><head><meta charset="utf-8"><title>Connect an app</title></head>
            <body style="font-family: sans-serif; max-width: 32em; margin: 4em auto">
            <h1>\(HTMLText.escape(subdomain)).gorgias.com</h1>
            <p>The app <b>\(HTMLText.escape(query["client_id"] ?? ""))</b> asks for: \(HTMLText.escape(query["scope"] ?? ""))</p>
            <p><a href="\(HTMLText.escape(link("yes")))">Allow</a> &nbsp; <a href="\(HTMLText.escape(link("no")))">Deny</a></p>
            </body></html>
            """
        return html(page)
    }
}
