import ArgumentParser
import Foundation
import Ingress
import SwitchboardBase
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardStore
import OperatorKit

/// `switchboard accounts connect`: an account whose Gorgias side is connected through OAuth (the merchant consents on
/// their own Gorgias; the ingress receives the callback, stores the tokens and registers the integration).
struct ConnectAccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Connect an account to Gorgias through OAuth: prints the consent URL for the merchant to open.",
        discussion: """
            Needs the Gorgias app's GORGIAS_OAUTH_CLIENT_ID and GORGIAS_OAUTH_CLIENT_SECRET (the ingress needs them \
            too) and SWITCHBOARD_SECRET_KEY. A new account is stored disconnected, with its SMS credentials proven \
            first (SMS_AUTH_TOKEN or --sms-auth-token); the ingress connects it once the merchant consents. An \
            existing account (for example after `accounts disconnect`) is sent through consent again with its \
            stored SMS side. The URL works once, for 30 minutes; Gorgias' App Store button \
            (<ingress>/oauth/install?account=<subdomain>) works for the same account meanwhile.
            """
    )

    @Option(help: "Account id (letters, digits, _ . -; up to 64).") var id: String
    @OptionGroup var endpoints: AccountEndpointOptions
    @Option(help: "SMS auth token (or $SMS_AUTH_TOKEN).") var smsAuthToken: String?
    @OptionGroup var settings: AccountSettingsOptions
    @Option(help: "Public URL of the Switchboard ingress (Gorgias redirects the merchant to <url>/oauth/callback).")
    var ingressUrl: String
    @Flag(help: "Store the account without proving its SMS credentials (offline set-up).")
    var skipCredentialCheck = false
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        guard let app = try GorgiasOAuthApp.from(environment) else {
            throw ValidationError(
                "set GORGIAS_OAUTH_CLIENT_ID and GORGIAS_OAUTH_CLIENT_SECRET (the Gorgias app's credentials)")
        }
        guard URL(string: ingressUrl)?.scheme?.hasPrefix("http") == true else {
            throw ValidationError("--ingress-url must be an http(s) URL")
        }
        let box = try SecretBox.from(environment)
        try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) { store in
            let account: Account
            if let existing = try await store.account(id: id) {
                account = existing
            } else {
                account = try newAccount(environment, box: box)
                if !skipCredentialCheck {
                    for warning in try await CredentialCheck.runSMS(account, box: box) { StandardError.line(warning) }
                }
                try await store.createAccount(account)
                StandardOutput.line("added account \(account.id) (disconnected until the merchant consents)")
            }
            let url = try await OAuthConnect.begin(
                accountId: account.id, subdomain: try subdomain(of: account), gorgiasBaseURL: account.gorgiasBaseURL,
                ingressURL: ingressUrl, store: store, box: box, app: app)
            StandardOutput.line("open this URL as the merchant (once, within 30 minutes):")
            StandardOutput.line(url)
        }
    }

    private func newAccount(_ environment: Environment, box: SecretBox) throws -> Account {
        guard Account.isValidId(id) else {
            throw ValidationError("--id must be letters, digits, _ . - (up to 64), starting with a letter or digit")
        }
        guard let token = SecretOptions.secret("--sms-auth-token", smsAuthToken, "SMS_AUTH_TOKEN", environment) else {
            throw ValidationError("--sms-auth-token (or $SMS_AUTH_TOKEN) is required for a new account")
        }
        let sms = try endpoints.sms()
        var accountSettings = AccountSettings(brand: id)
        try settings.apply(to: &accountSettings)
        return Account(
            id: id, status: .disconnected, gorgiasBaseURL: try endpoints.gorgiasBaseURL(), gorgiasAuthKind: .oauth,
            gorgiasEmail: nil, smsBaseURL: sms.baseURL, smsAccountSid: sms.accountSid, smsSender: sms.sender,
            settings: accountSettings, sealedCredentials: try AccountCredentials(smsAuthToken: token).sealed(box))
    }

    private func subdomain(of account: Account) throws -> String {
        if endpoints.gorgiasBaseUrl != nil || endpoints.gorgiasSubdomain != nil { return try endpoints.subdomain() }
        return AccountEndpointOptions.subdomain(ofBaseURL: account.gorgiasBaseURL)
    }
}
