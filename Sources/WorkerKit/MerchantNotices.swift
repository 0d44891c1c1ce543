import Crypto
import Foundation
import Logging
import SwitchboardBase
import SwitchboardDomain
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardObservability
import SwitchboardRuntime
import SwitchboardStore

/// Tells a merchant, in words, when a health check of theirs fails and when it recovers: one notice per incident
/// (not per record or per check run), by email (`SMTP_URL`) and/or to a webhook, as the account's settings say.
///
/// An incident is a flip of a check's stored result (``Store/recordHealth(account:check:healthy:detail:at:)``
/// returns when it last flipped); the store's `merchant_notices` table lets exactly one worker send each notice,
/// however many run the checks. A recovery is sent only after a problem notice. A notice that cannot be delivered
/// is logged and not retried: the check's state stays visible in `accounts show` and the metrics.
public struct MerchantNotices: Sendable {
    let store: Store
    let http: HTTPClient
    let mailer: SMTPMailer?
    let logger: Logger
    /// Where the account's webhook signing key is read.
    let accounts: AccountDirectory?
    let time: any TimeSource

    public init(
        store: Store, http: HTTPClient, mailer: SMTPMailer?, logger: Logger, accounts: AccountDirectory? = nil,
        time: any TimeSource = .system
    ) {
        self.accounts = accounts
        self.time = time
        self.store = store
        self.http = http
        self.mailer = mailer
        self.logger = logger
    }

    /// What the merchant is told.
    public struct Notice: Sendable, Equatable {
        public var kind: Kind
        public var subject: String
        public var text: String

        public enum Kind: String, Sendable {
            case problem
            case recovered
        }
    }

    /// Called after `check`'s result was stored at `checkedAt` with change time `changedAt`; sends a notice when
    /// this result began an incident or ended one.
    public func healthRecorded(
        _ account: Account, check: String, healthy: Bool, detail: String, checkedAt: Date, changedAt: Date
    ) async {
        guard changedAt.millis == checkedAt.millis else { return }  // nothing changed
        let settings = account.settings
        guard settings.noticeEmail != nil || settings.noticeWebhookURL != nil else { return }
        do {
            let last = try await store.lastNotice(account: account.id, check: check)
            if healthy && last != Notice.Kind.problem.rawValue { return }  // healthy from the start, or never told
            let notice = Self.notice(account: account.id, check: check, healthy: healthy, detail: detail)
            guard
                try await store.claimNotice(
                    account: account.id, check: check, incidentAt: changedAt, kind: notice.kind.rawValue)
            else { return }
            await deliver(notice, account: account, check: check, detail: detail, at: changedAt)
        } catch {
            logger.warning("merchant notice not sent: \(error)", metadata: [LogKeys.accountId: "\(account.id)"])
        }
    }

    /// The words for `check` turning `healthy` or not: what happened, what it means for their customers, what to do.
    public static func notice(account: String, check: String, healthy: Bool, detail: String) -> Notice {
        let (what, consequence, remedy): (String, String, String) =
            switch check {
            case MerchantHealthCheck.gorgiasIntegration:
                (
                    "Gorgias turned off the HTTP integration that carries your agents' replies to SMS",
                    "Until it is active again, agents' replies do not reach your customers by text.",
                    "In Gorgias, open Settings → HTTP integrations and reactivate \"Switchboard SMS\", or ask your Switchboard operator to reconnect the account."
                )
            case ProcessingFailure.Dependency.gorgias.credentialsCheck:
                (
                    "Gorgias refuses Switchboard's credentials (the API key was revoked or the app was removed)",
                    "Your customers' texts are held, not lost, and reach your helpdesk once this is fixed.",
                    "Ask your Switchboard operator to store a new key (switchboard accounts credentials) or to connect the account again."
                )
            case MerchantHealthCheck.smsInboundWebhook:
                (
                    "Your SMS number no longer sends customers' texts to Switchboard (its incoming-message webhook was changed)",
                    "New texts from customers do not reach your helpdesk.",
                    "Ask your Switchboard operator to reconnect the account (switchboard accounts reconnect --ingress-url), or set the number's messaging webhook back."
                )
            case ProcessingFailure.Dependency.sms.credentialsCheck:
                (
                    "Your SMS provider refuses Switchboard's credentials",
                    "Agents' replies are held and are not sent as texts until this is fixed.",
                    "Check the auth token in your SMS provider's console and give your Switchboard operator the current one."
                )
            default:
                ("The check \(check) failed", "Some messages may be held.", "Contact your Switchboard operator.")
            }
        if healthy {
            return Notice(
                kind: .recovered, subject: "Switchboard: \(account) is working again",
                text: "Resolved: \(what). Everything held meanwhile is on its way.\n\nCheck: \(check)\nNow: \(detail)\n"
            )
        }
        return Notice(
            kind: .problem, subject: "Switchboard: action needed for \(account)",
            text: "\(what).\n\n\(consequence)\n\nWhat to do: \(remedy)\n\nCheck: \(check)\nDetail: \(detail)\n")
    }

    private func deliver(_ notice: Notice, account: Account, check: String, detail: String, at: Date) async {
        if let email = account.settings.noticeEmail {
            if let mailer {
                do {
                    try await mailer.send(to: email, subject: notice.subject, body: notice.text)
                } catch {
                    logger.warning("notice email failed: \(error)", metadata: [LogKeys.accountId: "\(account.id)"])
                }
            } else {
                logger.warning(
                    "notice email not sent: SMTP_URL is not set", metadata: [LogKeys.accountId: "\(account.id)"])
            }
        }
        if let url = account.settings.noticeWebhookURL {
            await post(notice, to: url, account: account, check: check, detail: detail, at: at)
        }
        logger.info(
            "merchant notified",
            metadata: [LogKeys.accountId: "\(account.id)", "check": "\(check)", "notice": "\(notice.kind)"])
    }

    /// Posts the notice to the merchant's webhook: only to a public address (checked again after resolving the name,
    /// which may point somewhere else by now), signed with the account's key (`X-Switchboard-Signature:
    /// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`) so the merchant can tell it is Switchboard's.
    private func post(_ notice: Notice, to url: String, account: Account, check: String, detail: String, at: Date) async
    {
        if let problem = PublicTarget.problem(url, resolving: true),
            !(Failpoint.isOn(Failpoint.loopbackNotices) && MerchantNotices.isLoopback(url))
        {
            logger.warning(
                "notice webhook not called: it \(problem)", metadata: [LogKeys.accountId: "\(account.id)"])
            return
        }
        let body: JSONValue = [
            "account": .string(account.id), "check": .string(check), "state": .string(notice.kind.rawValue),
            "subject": .string(notice.subject), "message": .string(notice.text), "detail": .string(detail),
            "at": .string(RFC3339.format(at)),
        ]
        let bytes = body.canonicalBytes()
        var headers = [("Content-Type", "application/json")]
        if let key = try? await accounts?.entry(account.id)?.credentials.noticeWebhookSecret {
            headers.append(("X-Switchboard-Signature", Self.signature(bytes, key: key, at: time.date)))
        }
        do {
            let response = try await http.execute(
                APIRequest(method: "POST", url: url, headers: headers, body: bytes, service: "notice"))
            if !(200..<300).contains(response.status) {
                logger.warning(
                    "notice webhook answered HTTP \(response.status)", metadata: [LogKeys.accountId: "\(account.id)"])
            }
        } catch {
            logger.warning("notice webhook failed: \(error)", metadata: [LogKeys.accountId: "\(account.id)"])
        }
    }

    static func isLoopback(_ url: String) -> Bool {
        guard let host = URL(string: url)?.host, let address = NetworkAddress(host) else { return false }
        return address.bytes.first == 127
    }

    /// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under key>`.
    static func signature(_ body: [UInt8], key: String, at: Date) -> String {
        let stamp = String(Int64(at.timeIntervalSince1970))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array((stamp + ".").utf8) + body, using: SymmetricKey(data: Data(key.utf8)))
        return "t=\(stamp),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
