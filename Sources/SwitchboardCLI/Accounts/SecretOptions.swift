import ArgumentParser
import Shared

/// The account secrets `accounts add` and `accounts credentials` take: from the environment, or as flags.
struct SecretOptions: ParsableArguments {
    @Option(help: "Gorgias API key (or $GORGIAS_API_KEY).") var gorgiasApiKey: String?
    @Option(help: "Gorgias OAuth access token (or $GORGIAS_OAUTH_TOKEN).") var gorgiasOauthToken: String?
    @Option(help: "SMS auth token (or $SMS_AUTH_TOKEN).") var smsAuthToken: String?

    /// The secrets given, each from its flag or else its environment variable.
    struct Secrets {
        var gorgiasAPIKey: String?
        var gorgiasOAuthToken: String?
        var smsAuthToken: String?

        var isEmpty: Bool { gorgiasAPIKey == nil && gorgiasOAuthToken == nil && smsAuthToken == nil }
    }

    /// Reads the secrets; warns for every one given as a flag, whose value shows in `ps` and the shell's history
    /// while and after the command runs.
    func resolve(_ environment: Environment) -> Secrets {
        func secret(_ flag: String, _ value: String?, _ variable: String) -> String? {
            Self.secret(flag, value, variable, environment)
        }
        return Secrets(
            gorgiasAPIKey: secret("--gorgias-api-key", gorgiasApiKey, "GORGIAS_API_KEY"),
            gorgiasOAuthToken: secret("--gorgias-oauth-token", gorgiasOauthToken, "GORGIAS_OAUTH_TOKEN"),
            smsAuthToken: secret("--sms-auth-token", smsAuthToken, "SMS_AUTH_TOKEN"))
    }

    /// One secret from its flag (warned about) or else its environment variable.
    static func secret(_ flag: String, _ value: String?, _ variable: String, _ environment: Environment) -> String? {
        if value != nil {
            StandardError.line(
                "warning: \(flag) is visible to other users in the process list and in shell history; set $\(variable) instead"
            )
        }
        return value ?? environment[variable]
    }
}
