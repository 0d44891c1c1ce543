import Foundation
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardSMS
import SwitchboardStore
import WorkerKit
import OperatorKit

/// Before `accounts add` stores anything: one read from Gorgias and one from the SMS provider prove the credentials,
/// and the sender is checked for SMS (required) and MMS (warned about). Each failure names what is wrong and which
/// option to fix, never a secret.
enum CredentialCheck {
    /// Throws ``CLIError/failed(_:)`` naming the first problem; returns warnings to print.
    static func run(_ account: Account, box: SecretBox) async throws -> [String] {
        try await HTTPClient.withClient { http in
            let entry = try AccountDirectory.entry(for: account, box: box, http: http)
            try await checkGorgias(entry.gorgias, account: account)
            return try await checkSender(entry.sms, account: account)
        }
    }

    /// The SMS side only (`accounts connect`: Gorgias is proven by the OAuth consent itself).
    static func runSMS(_ account: Account, box: SecretBox) async throws -> [String] {
        try await HTTPClient.withClient { http in
            try await checkSender(AccountDirectory.entry(for: account, box: box, http: http).sms, account: account)
        }
    }

    private static func checkGorgias(_ gorgias: GorgiasClient, account: Account) async throws {
        do {
            try await gorgias.checkCredentials()
        } catch let error as GorgiasError where error.status == 401 || error.status == 403 {
            let which =
                account.gorgiasAuthKind == .oauth
                ? "the OAuth token" : "--gorgias-email and the API key"
            throw CLIError.failed(
                "Gorgias refused the credentials (HTTP \(error.status)): check \(which); nothing was stored")
        } catch let error as GorgiasError {
            throw CLIError.failed(
                "Gorgias at \(account.gorgiasBaseURL) answered HTTP \(error.status) to a credentials check; nothing was stored"
            )
        } catch let error as HTTPError {
            throw CLIError.failed(
                "Gorgias at \(account.gorgiasBaseURL) could not be reached (\(error)); nothing was stored")
        }
    }

    private static func checkSender(_ sms: SMSClient, account: Account) async throws -> [String] {
        let result: SenderCheck
        do {
            result = try await sms.check(sender: account.smsSender)
        } catch let error as SMSError where error.status == 401 || error.status == 403 {
            throw CLIError.failed(
                "the SMS provider refused the credentials (HTTP \(error.status)): check --sms-account-sid and the auth token; nothing was stored"
            )
        } catch let error as SMSError {
            throw CLIError.failed(
                "the SMS provider answered HTTP \(error.status) to a credentials check; nothing was stored")
        } catch let error as HTTPError {
            throw CLIError.failed(
                "the SMS provider at \(account.smsBaseURL) could not be reached (\(error)); nothing was stored")
        }
        let sender = AccountSummary(account).sender
        switch result {
        case .notOwned:
            throw CLIError.failed(
                "--sms-from \(sender) is not a number of SMS account \(account.smsAccountSid); nothing was stored")
        case .number(sms: false, _):
            throw CLIError.failed("--sms-from \(sender) cannot send SMS; nothing was stored")
        case .number(sms: true, mms: false):
            return ["warning: \(sender) cannot send MMS: agents' attachments will not reach customers as pictures"]
        case .number, .messagingService:
            return []
        }
    }
}
