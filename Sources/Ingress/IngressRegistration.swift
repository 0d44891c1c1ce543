import Foundation
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardSMS
import SwitchboardStore
import WorkerKit

/// Connects an account's providers to the ingress: a fresh per-account secret, Gorgias' HTTP integration pointed at
/// the ingress with that secret in a header only (its triggers read back: ``IntegrationRefused`` when
/// Gorgias did not keep them), the SMS status callback pointed at the ingress, and the number's incoming texts
/// pointed there, with where the provider really routes them read back (``InboundRoute``).
public enum IngressRegistration {
    /// The ingress URLs of one account.
    public struct Endpoints: Sendable, Hashable {
        /// Where the SMS number's incoming-message webhook points (set at connect for a number; by hand in the
        /// provider's console for a messaging service).
        public var inbound: String
        /// Passed as `StatusCallback` on every send.
        public var status: String
        /// Registered as the Gorgias HTTP integration's URL (without the secret).
        public var gorgias: String
        /// Whether incoming texts now reach ``inbound``: the number's webhook was pointed there and nothing (a
        /// Messaging Service, a TwiML App) routes them elsewhere.
        public var inboundRegistered = false
        /// Where the provider routes the sender's incoming texts, in words (nil when it could not be read).
        public var inboundRoute: String?
    }

    public static let secretHeader = "X-Switchboard-Secret"

    public static func endpoints(ingressURL: String, accountId: String) -> Endpoints {
        let base = ingressURL.hasSuffix("/") ? String(ingressURL.dropLast()) : ingressURL
        return Endpoints(
            inbound: "\(base)/twilio/inbound/\(accountId)", status: "\(base)/twilio/status/\(accountId)",
            gorgias: "\(base)/gorgias/events/\(accountId)"
        )
    }

    /// Registers the account with the ingress at `ingressURL` and stores the integration id, the new secret and the
    /// status-callback URL. An integration registered earlier is removed first, so reconnecting never leaves two.
    @discardableResult
    public static func connect(accountId: String, ingressURL: String, store: Store, box: SecretBox, http: HTTPClient)
        async throws -> Endpoints
    {
        guard var account = try await store.account(id: accountId) else {
            throw RegistrationError("no account \(accountId)")
        }
        try await removeIntegration(of: account, box: box, http: http)
        var credentials = try account.credentials(box)
        credentials.integrationSecret = AccountCredentials.newSecret()
        account.sealedCredentials = try credentials.sealed(box)
        let endpoints = endpoints(ingressURL: ingressURL, accountId: accountId)
        let entry = try AccountDirectory.entry(for: account, box: box, http: http)
        let secret = credentials.integrationSecret ?? ""
        let integration = try await entry.gorgias.createIntegration(
            // The secret travels in a header only (the integration's documented `headers`), never in the URL, where
            // proxies and access logs would keep it.
            name: "Switchboard SMS (\(accountId))", url: endpoints.gorgias,
            secretHeader: (secretHeader, secret)
        )
        account.gorgiasIntegrationId = integration.id
        account.settings.statusCallbackURL = endpoints.status
        account.settings.ingressInboundURL = endpoints.inbound
        var result = endpoints
        // Best effort: the SMS provider refusing or failing here leaves the webhook to be set by hand, as told.
        _ = try? await pointInboundWebhook(&account, at: endpoints.inbound, sms: entry.sms)
        if let route = try? await entry.sms.inboundRoute(for: account.smsSender) {
            result.inboundRoute = route.description
            result.inboundRegistered = route.reaches(endpoints.inbound)
        }
        account.updatedAt = Date()
        try await store.updateAccount(account)
        return result
    }

    /// Points the sender number's incoming-message webhook at `url`, remembering what it pointed at before. False for
    /// a messaging service (its inbound URL is set on the service) or a number the provider does not list.
    private static func pointInboundWebhook(_ account: inout Account, at url: String, sms: SMSClient) async throws
        -> Bool
    {
        guard case .number(let number) = account.smsSender, let found = try await sms.incomingNumber(number) else {
            return false
        }
        if found.smsURL != url && found.smsURL != account.settings.inboundWebhookURL {
            account.settings.previousInboundWebhookURL = found.smsURL.isEmpty ? nil : found.smsURL
        }
        try await sms.setInboundWebhook(numberSid: found.sid, url: url)
        account.settings.inboundWebhookURL = url
        return true
    }

    /// Gives the number's incoming-message webhook back to what it pointed at before connect, if it still points
    /// at Switchboard.
    private static func restoreInboundWebhook(_ account: inout Account, sms: SMSClient) async throws {
        defer {
            account.settings.inboundWebhookURL = nil
            account.settings.previousInboundWebhookURL = nil
        }
        guard let ours = account.settings.inboundWebhookURL, case .number(let number) = account.smsSender,
            let found = try await sms.incomingNumber(number), found.smsURL == ours
        else { return }
        try await sms.setInboundWebhook(numberSid: found.sid, url: account.settings.previousInboundWebhookURL ?? "")
    }

    /// What ``disconnect(accountId:store:box:http:oauthApp:)`` did with an OAuth account's tokens.
    public enum TokenOutcome: Sendable, Equatable {
        /// The account had no OAuth tokens to give back.
        case none
        /// Gorgias revoked them, and they are forgotten.
        case revoked
        /// They are forgotten; Gorgias was not asked (no OAuth app configured) or has no revocation endpoint.
        case forgotten
    }

    /// Removes the account's Gorgias integration, if one is registered, and forgets it. The integration secret is
    /// replaced by a new one nobody has, so a request made with the old secret (or the old integration, if Gorgias
    /// kept it) no longer authenticates; reconnecting registers a fresh one. An account connected through OAuth has
    /// its tokens revoked (with `oauthApp`, where Gorgias allows it) and forgotten: reconnecting asks for consent again.
    @discardableResult
    public static func disconnect(
        accountId: String, store: Store, box: SecretBox, http: HTTPClient, oauthApp: GorgiasOAuthApp? = nil
    ) async throws -> TokenOutcome {
        guard var account = try await store.account(id: accountId) else { return .none }
        let oauth = oauthApp.map { (app: $0, store: store) }
        if account.gorgiasIntegrationId != nil {
            try await removeIntegration(of: account, box: box, http: http, oauth: oauth)
            account = try await store.account(id: accountId) ?? account  // a refresh may have rotated the tokens
            account.gorgiasIntegrationId = nil
        }
        if account.settings.inboundWebhookURL != nil {
            // Best effort too: a provider that cannot be reached must not keep the account connected.
            try? await restoreInboundWebhook(
                &account, sms: AccountDirectory.entry(for: account, box: box, http: http).sms)
        }
        var credentials = try account.credentials(box)
        var outcome = TokenOutcome.none
        // OAuth tokens are given back and forgotten: a session's refresh and access tokens, and a token pasted at
        // `accounts add` (it has no refresh token, but grants the same access until Gorgias forgets it).
        if let refresh = credentials.gorgiasRefreshToken {
            outcome = .forgotten
            if let oauthApp {
                let revokedRefresh = try await oauthApp.revoke(
                    token: refresh, hint: "refresh_token", gorgiasBaseURL: account.gorgiasBaseURL, http: http)
                if let access = credentials.gorgiasOAuthToken {
                    _ = try await oauthApp.revoke(
                        token: access, hint: "access_token", gorgiasBaseURL: account.gorgiasBaseURL, http: http)
                }
                if revokedRefresh { outcome = .revoked }
            }
        } else if let access = credentials.gorgiasOAuthToken {
            outcome = .forgotten
            if let oauthApp,
                try await oauthApp.revoke(
                    token: access, hint: "access_token", gorgiasBaseURL: account.gorgiasBaseURL, http: http)
            {
                outcome = .revoked
            }
        }
        if outcome != .none {
            credentials.gorgiasOAuthToken = nil
            credentials.gorgiasRefreshToken = nil
            credentials.gorgiasTokenExpiresAt = nil
            credentials.gorgiasTokenIssuedAt = nil
        }
        credentials.integrationSecret = AccountCredentials.newSecret()
        account.sealedCredentials = try credentials.sealed(box)
        account.updatedAt = Date()
        try await store.updateAccount(account)
        return outcome
    }

    private static func removeIntegration(
        of account: Account, box: SecretBox, http: HTTPClient, oauth: (app: GorgiasOAuthApp, store: Store)? = nil
    ) async throws {
        guard let id = account.gorgiasIntegrationId else { return }
        try await AccountDirectory.entry(for: account, box: box, http: http, oauth: oauth).gorgias
            .deleteIntegration(id: id)
    }
}

/// An account that cannot be registered with the ingress.
public struct RegistrationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
