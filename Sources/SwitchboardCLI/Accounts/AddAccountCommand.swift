import ArgumentParser
import Foundation
import SwitchboardDomain
import SwitchboardStore
import OperatorKit
import SwitchboardBase

/// `switchboard accounts add`: stores a new account with its credentials sealed by `SWITCHBOARD_SECRET_KEY`.
struct AddAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an account.",
        discussion: """
            Secrets may also come from the environment (GORGIAS_API_KEY, GORGIAS_OAUTH_TOKEN, SMS_AUTH_TOKEN) to keep \
            them out of shell history. Requires SWITCHBOARD_SECRET_KEY (openssl rand -base64 32). Before anything is \
            stored, one read each from Gorgias and the SMS provider proves the credentials and that the sender can \
            send SMS (--skip-credential-check skips it).
            """
    )

    @Option(help: "Account id (letters, digits, _ . -; up to 64).") var id: String
    @OptionGroup var endpoints: AccountEndpointOptions
    @Option(help: "Gorgias user email for API-key auth.") var gorgiasEmail: String?
    @OptionGroup var secretOptions: SecretOptions
    @OptionGroup var settings: AccountSettingsOptions
    @Option(
        help: "Public URL of the Switchboard ingress: registers the Gorgias HTTP integration and the status callback.")
    var ingressUrl: String?
    @Flag(help: "Store the account without proving its credentials with Gorgias and the SMS provider (offline set-up).")
    var skipCredentialCheck = false
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let secrets = try secretOptions.resolve(environment)
        let box = try SecretBox.from(environment)
        let account = try makeAccount(secrets: secrets, box: box, environment: environment)
        if let ingressUrl, URL(string: ingressUrl)?.scheme?.hasPrefix("http") != true {
            throw ValidationError("--ingress-url must be an http(s) URL")
        }
        if !skipCredentialCheck {
            for warning in try await CredentialCheck.run(account, box: box) { StandardError.line(warning) }
        }
        try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) { store in
            try await store.createAccount(account)
            StandardOutput.line(
                "added account \(account.id) (\(account.gorgiasBaseURL), sender \(AccountSummary(account).sender))")
            if let ingressUrl {
                try await IngressConnection.connect(
                    accountId: account.id, ingressURL: ingressUrl, store: store, box: box)
            }
        }
    }

    func makeAccount(secrets: SecretOptions.Secrets, box: SecretBox, environment: Environment) throws -> Account {
        guard Account.isValidId(id) else {
            throw ValidationError("--id must be letters, digits, _ . - (up to 64), starting with a letter or digit")
        }
        let baseURL = try endpoints.gorgiasBaseURL()
        let sms = try endpoints.sms()
        let apiKey = secrets.gorgiasAPIKey
        let oauthToken = secrets.gorgiasOAuthToken
        let authKind: Account.GorgiasAuthKind
        switch (apiKey, oauthToken) {
        case (_?, nil):
            guard gorgiasEmail != nil else {
                throw ValidationError("--gorgias-api-key needs --gorgias-email (Basic auth is email:key)")
            }
            authKind = .apiKey
        case (nil, _?): authKind = .oauth
        default:
            throw ValidationError(
                "give exactly one of --gorgias-api-key (with --gorgias-email) or --gorgias-oauth-token")
        }
        guard let authToken = secrets.smsAuthToken else {
            throw ValidationError("--sms-auth-token (or $SMS_AUTH_TOKEN) is required")
        }
        var accountSettings = AccountSettings(brand: id)
        try settings.apply(to: &accountSettings)
        var credentials = AccountCredentials(
            gorgiasAPIKey: apiKey, gorgiasOAuthToken: oauthToken, smsAuthToken: authToken)
        credentials.smsWebhookKeys = secrets.smsWebhookKeys
        _ = AccountSettingsOptions.keepNoticeKey(&credentials, settings: accountSettings, environment: environment)
        return Account(
            id: id, gorgiasBaseURL: baseURL, gorgiasAuthKind: authKind, gorgiasEmail: gorgiasEmail,
            smsBaseURL: sms.baseURL, smsAccountSid: sms.accountSid, smsSender: sms.sender, settings: accountSettings,
            sealedCredentials: try credentials.sealed(box)
        )
    }
}
