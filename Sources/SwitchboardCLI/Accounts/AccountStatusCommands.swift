import ArgumentParser
import Foundation
import Ingress
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardStore
import OperatorKit

/// `switchboard accounts disconnect <id>`: workers then skip the account's events (recorded, nothing sent).
struct DisconnectAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disconnect",
        abstract: "Disconnect an account: its events are skipped with an outcome, nothing is sent.",
        discussion: "Also removes the Gorgias HTTP integration registered for it, if any."
    )

    @Argument(help: "Account id.") var id: String
    @OptionGroup var store: StoreOptions

    func run() async throws {
        try await AccountStatusChange.apply(id: id, status: .disconnected, store: store) { store, box in
            try await IngressConnection.disconnect(accountId: id, store: store, box: box)
        }
    }
}

/// `switchboard accounts reconnect <id>`.
struct ReconnectAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconnect", abstract: "Reconnect a disconnected account.")

    @Argument(help: "Account id.") var id: String
    @Option(
        help: "Public URL of the Switchboard ingress: registers the Gorgias HTTP integration again with a new secret.")
    var ingressUrl: String?
    @OptionGroup var store: StoreOptions

    func run() async throws {
        try await Self.refuseWithoutOAuthTokens(id: id, store: store)
        try await AccountStatusChange.apply(id: id, status: .connected, store: store) { store, box in
            guard let ingressUrl else { return }
            try await IngressConnection.connect(accountId: id, ingressURL: ingressUrl, store: store, box: box)
        }
    }

    /// An account on Gorgias OAuth had its tokens revoked and forgotten at disconnect: marking it connected would have
    /// every Gorgias call refused. The merchant consents again through `accounts connect`, or the operator gives it a
    /// new token.
    static func refuseWithoutOAuthTokens(id: String, store options: StoreOptions) async throws {
        let environment = try CLIEnvironment.load()
        let box = try SecretBox.from(environment)
        try await Store.withStore(try options.location(environment), logger: CLIEnvironment.logger) { store in
            guard let account = try await store.account(id: id) else { throw CLIError.notFound("no account \(id)") }
            guard account.gorgiasAuthKind == .oauth, try account.credentials(box).gorgiasOAuthToken == nil else {
                return
            }
            throw CLIError.failed(
                "account \(id) has no Gorgias OAuth token (it was revoked and forgotten at disconnect): connect it with `switchboard accounts connect \(id) --ingress-url <url>`, which asks the merchant's consent again, or give it a new token with `switchboard accounts credentials \(id)` ($GORGIAS_OAUTH_TOKEN) and reconnect"
            )
        }
    }
}

enum AccountStatusChange {
    /// Sets the status, then runs `then` (integration upkeep) against the same store.
    static func apply(
        id: String, status: Account.Status, store options: StoreOptions,
        then: @escaping @Sendable (Store, SecretBox) async throws -> Void
    ) async throws {
        let environment = try CLIEnvironment.load()
        try await Store.withStore(try options.location(environment), logger: CLIEnvironment.logger) { store in
            guard try await store.setAccountStatus(id: id, status) else { throw CLIError.notFound("no account \(id)") }
            StandardOutput.line("account \(id) \(status.rawValue)")
            try await then(store, try SecretBox.from(environment))
        }
    }
}

/// The CLI side of ``IngressRegistration``: one HTTP client per call, and what to tell the operator.
enum IngressConnection {
    static func connect(accountId: String, ingressURL: String, store: Store, box: SecretBox) async throws {
        let endpoints = try await HTTPClient.withClient { http in
            try await IngressRegistration.connect(
                accountId: accountId, ingressURL: ingressURL, store: store, box: box, http: http)
        }
        StandardOutput.line("registered the Gorgias HTTP integration → \(endpoints.gorgias)")
        StandardOutput.line("delivery statuses → \(endpoints.status)")
        if endpoints.inboundRegistered {
            StandardOutput.line("incoming texts → \(endpoints.inbound)")
        } else {
            StandardError.line(
                "warning: incoming texts do not reach Switchboard: \(endpoints.inboundRoute ?? "the SMS provider could not be read"); point it at \(endpoints.inbound)"
            )
        }
    }

    static func disconnect(accountId: String, store: Store, box: SecretBox) async throws {
        let app = try GorgiasOAuthApp.from(try CLIEnvironment.load())
        let outcome = try await HTTPClient.withClient { http in
            try await IngressRegistration.disconnect(
                accountId: accountId, store: store, box: box, http: http, oauthApp: app)
        }
        switch outcome {
        case .none: break
        case .revoked: StandardOutput.line("revoked the Gorgias OAuth tokens")
        case .forgotten:
            StandardError.line(
                "warning: forgot the Gorgias OAuth tokens without revoking them (\(app == nil ? "GORGIAS_OAUTH_CLIENT_ID is not set" : "Gorgias offers no revocation")); the merchant can remove the app in Gorgias"
            )
        }
    }
}
