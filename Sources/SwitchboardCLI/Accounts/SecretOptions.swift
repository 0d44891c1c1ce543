import ArgumentParser
import Foundation
import SwitchboardBase
import OperatorKit

/// The account secrets `accounts add` and `accounts credentials` take: from the environment, or as flags.
struct SecretOptions: ParsableArguments {
    @Option(help: "Gorgias API key (or $GORGIAS_API_KEY).") var gorgiasApiKey: String?
    @Option(help: "Gorgias OAuth access token (or $GORGIAS_OAUTH_TOKEN).") var gorgiasOauthToken: String?
    @Option(help: "SMS auth token (or $SMS_AUTH_TOKEN).") var smsAuthToken: String?
    @Option(
        help: """
            Twilio webhook shared keys, KEY_ID=SECRET[,KEY_ID=SECRET] (or $SMS_WEBHOOK_KEYS): when a Twilio Webhook             Rule signs with a shared key (HMAC-SHA256) instead of the auth token; two during a rotation.
            """) var smsWebhookKeys: String?

    /// The secrets given, each from its flag or else its environment variable.
    struct Secrets {
        var gorgiasAPIKey: String?
        var gorgiasOAuthToken: String?
        var smsAuthToken: String?
        var smsWebhookKeys: [String: String]?

        var isEmpty: Bool {
            gorgiasAPIKey == nil && gorgiasOAuthToken == nil && smsAuthToken == nil && smsWebhookKeys == nil
        }
    }

    /// Reads the secrets; warns for every one given as a flag, whose value shows in `ps` and the shell's history
    /// while and after the command runs.
    func resolve(_ environment: Environment) throws -> Secrets {
        func secret(_ flag: String, _ value: String?, _ variable: String) -> String? {
            Self.secret(flag, value, variable, environment)
        }
        return Secrets(
            gorgiasAPIKey: secret("--gorgias-api-key", gorgiasApiKey, "GORGIAS_API_KEY"),
            gorgiasOAuthToken: secret("--gorgias-oauth-token", gorgiasOauthToken, "GORGIAS_OAUTH_TOKEN"),
            smsAuthToken: secret("--sms-auth-token", smsAuthToken, "SMS_AUTH_TOKEN"),
            smsWebhookKeys: try secret("--sms-webhook-keys", smsWebhookKeys, "SMS_WEBHOOK_KEYS").map(Self.keys))
    }

    /// `KEY_ID=SECRET[,KEY_ID=SECRET]`, at most two (the current key and the next one, during a rotation).
    static func keys(_ text: String) throws -> [String: String] {
        var keys: [String: String] = [:]
        for entry in text.split(separator: ",") {
            let pair = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
                throw ValidationError("--sms-webhook-keys: each key is KEY_ID=SECRET")
            }
            keys[pair[0]] = pair[1]
        }
        guard (1...2).contains(keys.count) else { throw ValidationError("--sms-webhook-keys: one or two keys") }
        return keys
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
