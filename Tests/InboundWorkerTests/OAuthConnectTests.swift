import Foundation
import Testing
import Ingress
import LocalFleet
import Sandbox
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardStore
import TestSupport
import SwitchboardDomain

/// A merchant connected the way Gorgias' App Store does it: `switchboard accounts connect` prints the consent URL,
/// the merchant approves on the sandbox's Gorgias, the ingress takes the callback, stores the tokens and registers
/// the integration; texts flow; the sandbox's short-lived access tokens are refreshed before they expire, so no
/// call is refused and no event fails; disconnecting revokes the tokens and removes the integration.
@Suite("OAuth connect", .serialized, .timeLimit(.minutes(4)))
struct OAuthConnectTests {
    let shop = E2EFleet.TestAccount(id: "shop")

    func oauthEnvironment(_ fleet: E2EFleet) -> [String: String] {
        var environment = fleet.environment.filter { ["DATABASE_URL", "SWITCHBOARD_SECRET_KEY"].contains($0.key) }
        environment["GORGIAS_OAUTH_CLIENT_ID"] = fleet.sandbox.server.configuration.oauthClientId
        environment["GORGIAS_OAUTH_CLIENT_SECRET"] = fleet.sandbox.server.configuration.oauthClientSecret
        return environment
    }

    /// What both tests start from: the shop's Twilio account (its number's webhook pointing at `numberWebhook`), the
    /// ingress serving the sandbox's OAuth app, and `accounts connect`'s arguments and environment for the shop.
    func connectable(_ fleet: E2EFleet, numberWebhook: String? = nil) async throws -> (
        ingress: E2EFleet.RunningIngress, arguments: [String], environment: [String: String]
    ) {
        var number: [String: JSONValue] = ["sms": true, "mms": true]
        number["smsUrl"] = numberWebhook.map { .string($0) }
        try await fleet.sandbox.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(shop.twilioSid), "authToken": .string(shop.twilioToken),
                "numbers": .object([shop.number: .object(number)]),
            ])
        let app = GorgiasOAuthApp(
            clientId: fleet.sandbox.server.configuration.oauthClientId,
            clientSecret: fleet.sandbox.server.configuration.oauthClientSecret)
        let ingress = try await fleet.startIngress(oauth: app)
        var environment = oauthEnvironment(fleet)
        environment["SMS_AUTH_TOKEN"] = shop.twilioToken
        let arguments = [
            "accounts", "connect", "--id", shop.id, "--gorgias-base-url", fleet.sandbox.gorgiasBaseURL(shop.id),
            "--sms-base-url", fleet.sandbox.twilioBaseURL, "--sms-account-sid", shop.twilioSid, "--sms-from",
            shop.number, "--ingress-url", ingress.url,
        ]
        return (ingress, arguments, environment)
    }

    func messageCount(_ fleet: E2EFleet) async -> Int {
        ((try? await fleet.gorgias(shop.id)["tickets"]?.arrayValue) ?? [])
            .reduce(0) { $0 + ($1["messages"]?.arrayValue?.count ?? 0) }
    }

    @Test(
        "connect → consent → callback → tokens stored → texts flow → the token expires and is refreshed without a refused call → disconnect revokes and removes the integration"
    )
    func connectRefreshDisconnect() async throws {
        let fleet = try await E2EFleet()
        try await fleet.sandbox.post("/sandbox/faults", ["oauthTokenLifetimeSeconds": 6])
        let (ingress, arguments, environment) = try await connectable(
            fleet, numberWebhook: "https://old-helpdesk.example/sms")
        let connect = try await CLIProcess.run(arguments, environment: environment)
        #expect(connect.status == 0, "\(connect.output)\(connect.errors)")
        let consentURL = try #require(connect.output.split(separator: "\n").last.map(String.init))
        #expect(consentURL.hasPrefix(fleet.sandbox.gorgiasBaseURL(shop.id) + "/oauth/authorize?"))
        #expect(try await fleet.withStore { try await $0.account(id: "shop")?.status } == .disconnected)

        // The merchant's browser: the consent screen approves and redirects to the ingress' callback.
        let http = HTTPClient()
        defer { Task { await http.shutdown() } }
        let consent = try await http.execute(APIRequest(method: "GET", url: consentURL, service: "browser"))
        #expect(consent.status == 302)
        let callbackURL = try #require(consent.header("Location"))
        #expect(callbackURL.hasPrefix(ingress.url + "/oauth/callback?"))
        let done = try await http.execute(APIRequest(method: "GET", url: callbackURL, service: "browser"))
        #expect(done.status == 200, "\(done.bodyText)")
        // The state is single-use: the same callback again is refused and changes nothing.
        let replay = try await http.execute(APIRequest(method: "GET", url: callbackURL, service: "browser"))
        #expect(replay.status == 400)

        let box = try SecretBox(base64Key: fleet.secretKey)
        let account = try #require(try await fleet.withStore { try await $0.account(id: "shop") })
        let credentials = try account.credentials(box)
        #expect(account.status == .connected && account.gorgiasAuthKind == .oauth)
        #expect(credentials.gorgiasRefreshToken != nil && credentials.gorgiasOAuthToken != nil)
        #expect(account.gorgiasIntegrationId != nil)
        #expect(try await fleet.sandbox.json("/sandbox/gorgias/shop")["integrations"]?.arrayValue?.count == 1)
        let endpoints = IngressRegistration.endpoints(ingressURL: ingress.url, accountId: shop.id)
        func numberWebhook() async throws -> JSONValue? {
            try await fleet.sandbox.json("/sandbox/twilio/\(shop.twilioSid)")["numbers"]?[shop.number]?["smsUrl"]
        }
        #expect(
            try await numberWebhook() == .string(endpoints.inbound), "the number now posts its texts to the ingress")

        let worker = try await fleet.start(.inbound, environment: oauthEnvironment(fleet))
        for index in 0..<3 {
            try await fleet.customerTexts(shop, from: "+1555010000\(index)", "hello \(index)", to: endpoints)
        }
        #expect(await eventually(timeout: .seconds(30)) { await messageCount(fleet) == 3 }, "\(fleet.logs)")
        // Past the 6 s lifetime (refreshed at 3 s left): texts keep flowing on refreshed tokens.
        try await Task.sleep(for: .seconds(7))
        for index in 3..<6 {
            try await fleet.customerTexts(shop, from: "+1555010000\(index)", "hello \(index)", to: endpoints)
        }
        #expect(await eventually(timeout: .seconds(30)) { await messageCount(fleet) == 6 }, "\(fleet.logs)")
        let sandboxView = try await fleet.sandbox.json("/sandbox/gorgias/shop")
        #expect((sandboxView["oauth"]?["refreshes"]?.intValue ?? 0) >= 1)
        #expect(sandboxView["refusedCalls"]?.intValue == 0, "no call went out with an expired token")
        let metrics = await worker.metrics()
        #expect(metricSum(metrics, "switchboard_dead_letters_total") == 0)
        #expect(metricSum(metrics, "switchboard_in_place_retries_total") == 0, "no event failed")
        #expect(metricSum(metrics, "switchboard_records_total", matching: "outcome=\"retried\"") == 0)
        #expect(metricSum(metrics, "switchboard_records_total", matching: "outcome=\"processed\"") == 6)

        // Disconnect: the integration is removed and both tokens revoked; the refresh token no longer works.
        let disconnect = try await CLIProcess.run(
            ["accounts", "disconnect", shop.id], environment: oauthEnvironment(fleet))
        #expect(
            disconnect.status == 0 && disconnect.output.contains("revoked"), "\(disconnect.output)\(disconnect.errors)")
        let after = try await fleet.sandbox.json("/sandbox/gorgias/shop")
        #expect(after["integrations"]?.arrayValue?.isEmpty == true)
        #expect(after["oauth"]?["liveRefreshTokens"]?.intValue == 0)
        #expect((after["oauth"]?["revocations"]?.intValue ?? 0) >= 1)
        #expect(try await numberWebhook() == "https://old-helpdesk.example/sms", "the number's webhook is given back")
        let forgotten = try #require(try await fleet.withStore { try await $0.account(id: "shop") }).credentials(box)
        #expect(forgotten.gorgiasRefreshToken == nil && forgotten.gorgiasOAuthToken == nil)

        // Reconnecting without tokens would have every Gorgias call refused: refused, pointing at `accounts connect`.
        let reconnect = try await CLIProcess.run(
            ["accounts", "reconnect", shop.id], environment: oauthEnvironment(fleet))
        #expect(
            reconnect.status != 0 && reconnect.errors.contains("accounts connect"),
            "\(reconnect.output)\(reconnect.errors)")
        #expect(try await fleet.withStore { try await $0.account(id: "shop")?.status } == .disconnected)
        // `accounts connect` again: consent again, fresh tokens, a fresh integration, texts flow.
        let again = try await CLIProcess.run(arguments, environment: environment)
        #expect(again.status == 0, "\(again.output)\(again.errors)")
        let secondConsent = try #require(again.output.split(separator: "\n").last.map(String.init))
        let secondCallback = try #require(
            try await http.execute(APIRequest(method: "GET", url: secondConsent, service: "browser"))
                .header("Location"))
        #expect(
            try await http.execute(APIRequest(method: "GET", url: secondCallback, service: "browser")).status == 200)
        let reconnected = try #require(try await fleet.withStore { try await $0.account(id: "shop") })
        let renewed = try reconnected.credentials(box)
        #expect(reconnected.status == .connected && renewed.gorgiasRefreshToken != nil)
        try await fleet.customerTexts(shop, from: "+15550100009", "back again", to: endpoints)
        #expect(await eventually(timeout: .seconds(30)) { await messageCount(fleet) == 7 }, "\(fleet.logs)")
        await ingress.stop()
        await fleet.shutdown()
    }

    @Test("a wrong SMS token, an OAuth app without offline, a declined consent and a forged state change nothing")
    func refusals() async throws {
        let fleet = try await E2EFleet()
        try await fleet.sandbox.post("/sandbox/faults", ["oauthAutoApprove": false])
        let (ingress, arguments, environment) = try await connectable(fleet)
        var withoutOffline = environment
        withoutOffline["GORGIAS_OAUTH_SCOPES"] =
            "account:read customers:read customers:write tickets:read tickets:write"
        let refused = try await CLIProcess.run(arguments, environment: withoutOffline)
        #expect(refused.status != 0 && refused.errors.contains("GORGIAS_OAUTH_SCOPES"), "\(refused.errors)")
        var wrongToken = environment
        wrongToken["SMS_AUTH_TOKEN"] = "not-the-token"
        let wrong = try await CLIProcess.run(arguments, environment: wrongToken)
        #expect(wrong.status != 0 && wrong.errors.contains("SMS provider refused"), "\(wrong.errors)")
        #expect(try await fleet.withStore { try await $0.account(id: "shop") } == nil, "nothing stored")

        let connect = try await CLIProcess.run(arguments, environment: environment)
        let consentURL = try #require(connect.output.split(separator: "\n").last.map(String.init))
        let http = HTTPClient()
        defer { Task { await http.shutdown() } }
        // The consent screen shows Allow and Deny; the merchant denies.
        let screen = try await http.execute(APIRequest(method: "GET", url: consentURL, service: "browser"))
        #expect(screen.status == 200 && screen.bodyText.contains("Deny"))
        let deny = try await http.execute(
            APIRequest(method: "GET", url: consentURL + "&approve=no", service: "browser"))
        let denied = try await http.execute(
            APIRequest(method: "GET", url: try #require(deny.header("Location")), service: "browser"))
        #expect(denied.status == 400)
        // A forged state (a link nobody issued) is refused before any code is exchanged.
        let forged = try await http.execute(
            APIRequest(method: "GET", url: ingress.url + "/oauth/callback?code=x&state=forged", service: "browser"))
        #expect(forged.status == 400)
        let account = try #require(try await fleet.withStore { try await $0.account(id: "shop") })
        #expect(account.status == .disconnected && account.gorgiasIntegrationId == nil)
        #expect(try account.credentials(SecretBox(base64Key: fleet.secretKey)).gorgiasRefreshToken == nil)
        let exchanges = (try? await fleet.sandbox.json("/sandbox/gorgias/shop"))?["oauth"]?["exchanges"]?.intValue
        #expect((exchanges ?? 0) == 0)
        await ingress.stop()
        await fleet.shutdown()
    }

    @Test(
        "the public install link neither replaces nor extends a pending connection; a declined consent leaves it usable; nothing the provider says is echoed; pending and unknown helpdesks are answered alike"
    )
    func installLink() async throws {
        let fleet = try await E2EFleet()
        try await fleet.sandbox.post("/sandbox/faults", ["oauthAutoApprove": false])
        let (ingress, arguments, environment) = try await connectable(fleet)
        let connect = try await CLIProcess.run(arguments, environment: environment)
        let consentURL = try #require(connect.output.split(separator: "\n").last.map(String.init))
        func state(_ url: String) -> String? {
            URLComponents(string: url)?.queryItems?.first { $0.name == "state" }?.value
        }
        let operatorState = try #require(state(consentURL))
        let pendingBefore = try #require(
            try await fleet.withStore { try await $0.pendingOAuthConnection(subdomain: "shop") })
        let http = HTTPClient()
        defer { Task { await http.shutdown() } }
        func get(_ url: String) async throws -> APIResponse {
            try await http.execute(APIRequest(method: "GET", url: url, service: "browser"))
        }
        // Anyone may open the install link, many times: the operator's link keeps working, its expiry unchanged.
        for _ in 0..<3 {
            let install = try await get(ingress.url + "/oauth/install?account=shop")
            #expect(install.status == 302 && state(install.header("Location") ?? "") == operatorState)
        }
        let pendingAfter = try #require(
            try await fleet.withStore { try await $0.pendingOAuthConnection(subdomain: "shop") })
        #expect(pendingAfter.expiresAt == pendingBefore.expiresAt, "not extended")
        // Unknown helpdesks are answered the same way: a redirect to a consent screen with a state.
        let unknown = try await get(ingress.url + "/oauth/install?account=nobody-here")
        #expect(unknown.status == 302 && state(unknown.header("Location") ?? "") != nil)
        #expect(unknown.header("Location")?.contains("nobody-here") == true)
        // A callback with an error (forged or real) neither uses the state up nor echoes the text.
        let declined = try await get(
            ingress.url + "/oauth/callback?state=\(operatorState)&error=%3Cb%3EYour%20account%20is%20locked%3C%2Fb%3E")
        #expect(declined.status == 400 && !declined.bodyText.contains("locked"), "\(declined.bodyText)")
        #expect(declined.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        // The merchant then approves on the operator's link, and it connects.
        let approve = try await get(consentURL + "&approve=yes")
        let done = try await get(try #require(approve.header("Location")))
        #expect(done.status == 200, "\(done.bodyText)")
        #expect(try await fleet.withStore { try await $0.account(id: "shop") }?.status == .connected)
        await ingress.stop()
        await fleet.shutdown()
    }

    @Test(
        "a pasted OAuth token (no refresh token) is revoked and forgotten on disconnect; reconnect refuses until it has a token again"
    )
    func pastedTokenForgotten() async throws {
        let fleet = try await E2EFleet()
        let pasted = E2EFleet.TestAccount(id: "pasted", oauth: true)
        try await fleet.addAccount(pasted)
        let box = try SecretBox(base64Key: fleet.secretKey)
        func token() async throws -> String? {
            try #require(try await fleet.withStore { try await $0.account(id: "pasted") }).credentials(box)
                .gorgiasOAuthToken
        }
        #expect(try await token() == pasted.gorgiasKey)
        let disconnect = try await CLIProcess.run(
            ["accounts", "disconnect", "pasted"], environment: oauthEnvironment(fleet))
        #expect(
            disconnect.status == 0 && disconnect.output.contains("revoked"), "\(disconnect.output)\(disconnect.errors)")
        #expect(try await token() == nil, "forgotten")
        let reconnect = try await CLIProcess.run(
            ["accounts", "reconnect", "pasted"], environment: oauthEnvironment(fleet))
        #expect(reconnect.status != 0 && reconnect.errors.contains("accounts credentials"), "\(reconnect.errors)")
        var withToken = oauthEnvironment(fleet)
        withToken["GORGIAS_OAUTH_TOKEN"] = pasted.gorgiasKey
        let credentials = try await CLIProcess.run(
            ["accounts", "credentials", "pasted", "--skip-credential-check"], environment: withToken)
        #expect(credentials.status == 0, "\(credentials.errors)")
        let again = try await CLIProcess.run(["accounts", "reconnect", "pasted"], environment: oauthEnvironment(fleet))
        #expect(again.status == 0, "\(again.errors)")
        await fleet.shutdown()
    }
}
