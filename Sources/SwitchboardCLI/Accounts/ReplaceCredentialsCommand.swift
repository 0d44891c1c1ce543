import ArgumentParser
import Foundation
import SwitchboardDomain
import SwitchboardStore
import OperatorKit

/// `switchboard accounts credentials <id>`: replaces an account's Gorgias key or token and/or its SMS auth token after
/// a rotation or a revocation. The new ones are proven as `add` proves them, then stored sealed; workers use them
/// within `ACCOUNT_CACHE_TTL`, and the merchant's events that waited while the provider refused the old ones flow.
struct ReplaceCredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "Replace an account's credentials (a rotated or revoked key).",
        discussion: """
            Give the new secrets in the environment (GORGIAS_API_KEY, GORGIAS_OAUTH_TOKEN, SMS_AUTH_TOKEN, \
            SMS_WEBHOOK_KEYS) or as flags; those not given stay as stored. One read each from Gorgias and the SMS provider proves them \
            before anything is stored (--skip-credential-check skips it).
            """
    )

    @Argument(help: "Account id.") var id: String
    @OptionGroup var secretOptions: SecretOptions
    @Option(help: "The Gorgias user email the API key belongs to, when it changes.") var gorgiasEmail: String?
    @Flag(help: "Store the credentials without proving them with Gorgias and the SMS provider.")
    var skipCredentialCheck = false
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let secrets = try secretOptions.resolve(environment)
        guard !secrets.isEmpty else {
            throw ValidationError(
                "give a new --gorgias-api-key, --gorgias-oauth-token, --sms-auth-token or --sms-webhook-keys (or their variables)"
            )
        }
        guard secrets.gorgiasAPIKey == nil || secrets.gorgiasOAuthToken == nil else {
            throw ValidationError("give one of --gorgias-api-key or --gorgias-oauth-token")
        }
        let box = try SecretBox.from(environment)
        try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) { store in
            guard var account = try await store.account(id: id) else { throw CLIError.notFound("no account \(id)") }
            var credentials = try account.credentials(box)
            if let key = secrets.gorgiasAPIKey {
                account.gorgiasEmail = gorgiasEmail ?? account.gorgiasEmail
                guard account.gorgiasEmail != nil else {
                    throw ValidationError("--gorgias-api-key needs --gorgias-email (Basic auth is email:key)")
                }
                (credentials.gorgiasAPIKey, credentials.gorgiasOAuthToken) = (key, nil)
                account.gorgiasAuthKind = .apiKey
            }
            if let token = secrets.gorgiasOAuthToken {
                (credentials.gorgiasAPIKey, credentials.gorgiasOAuthToken) = (nil, token)
                account.gorgiasAuthKind = .oauth
            }
            if let token = secrets.smsAuthToken { credentials.smsAuthToken = token }
            if let keys = secrets.smsWebhookKeys { credentials.smsWebhookKeys = keys }
            account.sealedCredentials = try credentials.sealed(box)
            account.updatedAt = Date()
            if !skipCredentialCheck {
                for warning in try await CredentialCheck.run(account, box: box) { StandardError.line(warning) }
            }
            try await store.updateAccount(account)
            let replaced = [
                secrets.gorgiasAPIKey.map { _ in "Gorgias API key" },
                secrets.gorgiasOAuthToken.map { _ in "Gorgias OAuth token" },
                secrets.smsAuthToken.map { _ in "SMS auth token" },
                secrets.smsWebhookKeys.map { $0.count == 1 ? "SMS webhook key" : "SMS webhook keys" },
            ].compactMap { $0 }
            StandardOutput.line(
                "account \(id): replaced the \(replaced.joined(separator: " and ")); workers use them within ACCOUNT_CACHE_TTL"
            )
        }
    }
}
