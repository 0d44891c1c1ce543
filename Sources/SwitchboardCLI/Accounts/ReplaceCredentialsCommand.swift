import ArgumentParser
import Foundation
import Shared

/// `switchboard accounts credentials <id>`: replaces an account's Gorgias key or token and/or its SMS auth token after
/// a rotation or a revocation. The new ones are proven as `add` proves them, then stored sealed; workers use them
/// within `ACCOUNT_CACHE_TTL`, and the merchant's events that waited while the provider refused the old ones flow.
struct ReplaceCredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "Replace an account's credentials (a rotated or revoked key).",
        discussion: """
            Give the new secrets in the environment (GORGIAS_API_KEY, GORGIAS_OAUTH_TOKEN, SMS_AUTH_TOKEN) or as \
            flags; those not given stay as stored. One read each from Gorgias and the SMS provider proves them \
            before anything is stored (--skip-credential-check skips it).
            """
    )

    @Argument(help: "Account id.") var id: String
    @Option(help: "New Gorgias API key (or $GORGIAS_API_KEY).") var gorgiasApiKey: String?
    @Option(help: "The Gorgias user email the API key belongs to, when it changes.") var gorgiasEmail: String?
    @Option(help: "New Gorgias OAuth access token (or $GORGIAS_OAUTH_TOKEN).") var gorgiasOauthToken: String?
    @Option(help: "New SMS auth token (or $SMS_AUTH_TOKEN).") var smsAuthToken: String?
    @Flag(help: "Store the credentials without proving them with Gorgias and the SMS provider.")
    var skipCredentialCheck = false
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let secrets = SecretFlags.resolve(
            [
                ("--gorgias-api-key", gorgiasApiKey, "GORGIAS_API_KEY"),
                ("--gorgias-oauth-token", gorgiasOauthToken, "GORGIAS_OAUTH_TOKEN"),
                ("--sms-auth-token", smsAuthToken, "SMS_AUTH_TOKEN"),
            ], environment: environment)
        guard !secrets.isEmpty else {
            throw ValidationError(
                "give a new --gorgias-api-key, --gorgias-oauth-token or --sms-auth-token (or their variables)")
        }
        guard secrets["GORGIAS_API_KEY"] == nil || secrets["GORGIAS_OAUTH_TOKEN"] == nil else {
            throw ValidationError("give one of --gorgias-api-key or --gorgias-oauth-token")
        }
        let box = try SecretBox.from(environment)
        try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) { store in
            guard var account = try await store.account(id: id) else { throw CLIError.notFound("no account \(id)") }
            var credentials = try account.credentials(box)
            if let key = secrets["GORGIAS_API_KEY"] {
                account.gorgiasEmail = gorgiasEmail ?? account.gorgiasEmail
                guard account.gorgiasEmail != nil else {
                    throw ValidationError("--gorgias-api-key needs --gorgias-email (Basic auth is email:key)")
                }
                (credentials.gorgiasAPIKey, credentials.gorgiasOAuthToken) = (key, nil)
                account.gorgiasAuthKind = .apiKey
            }
            if let token = secrets["GORGIAS_OAUTH_TOKEN"] {
                (credentials.gorgiasAPIKey, credentials.gorgiasOAuthToken) = (nil, token)
                account.gorgiasAuthKind = .oauth
            }
            if let token = secrets["SMS_AUTH_TOKEN"] { credentials.smsAuthToken = token }
            account.sealedCredentials = try credentials.sealed(box)
            account.updatedAt = Date()
            if !skipCredentialCheck {
                for warning in try await CredentialCheck.run(account, box: box) { StandardError.line(warning) }
            }
            try await store.updateAccount(account)
            let replaced = [
                secrets["GORGIAS_API_KEY"].map { _ in "Gorgias API key" },
                secrets["GORGIAS_OAUTH_TOKEN"].map { _ in "Gorgias OAuth token" },
                secrets["SMS_AUTH_TOKEN"].map { _ in "SMS auth token" },
            ].compactMap { $0 }
            StandardOutput.line(
                "account \(id): replaced the \(replaced.joined(separator: " and ")); workers use them within ACCOUNT_CACHE_TTL"
            )
        }
    }
}
