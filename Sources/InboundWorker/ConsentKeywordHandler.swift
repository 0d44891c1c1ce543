import Foundation
import Logging
import SwitchboardBase
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardRuntime
import SwitchboardStore
import WorkerKit

/// STOP, START and HELP texted by a customer (architecture §5, contracts/consent-keywords.json): consent first and on its
/// own, with no Gorgias call in front of it.
///
/// 1. The consent change (the subscriber's state and its history, with the event id and the keyword as received)
///    commits in one transaction with its helpdesk follow-up — for every account Switchboard knows, connected or not
///    (a disconnected one gets no follow-up and no SMS).
/// 2. Where the account answers keywords itself (not the provider), the one confirmation or HELP answer is sent.
/// 3. The internal note and the ticket close are the follow-up's, performed by ``HelpdeskFollowUps`` on its own
///    schedule; Gorgias being down, throttled or refusing the key never holds 1 and 2 back or dead-letters them.
///
/// A STOP-family word never becomes a ticket message. An opt-in or help word that changes nothing for the customer
/// (a subscribed customer's "Yes", "Info") is reported as such (``Outcome/changedNothing``), so the handler can forward
/// it as the customer's answer where a conversation is open. Each step is idempotent (consent by event time, the
/// follow-up and the SMS journaled by event), so a redelivered or retried event completes what is missing and
/// repeats nothing.
struct ConsentKeywordHandler: Sendable {
    /// What a keyword did.
    struct Outcome {
        var result: HandlerResult
        /// The keyword changed no consent (a HELP; an opt-in from someone already subscribed).
        var changedNothing: Bool
        /// What the keyword did besides, in words for a note beside the forwarded message (HELP's answer).
        var effect: String?
    }

    let store: Store
    let sms: OneOffSMS

    init(store: Store) {
        self.store = store
        self.sms = OneOffSMS(store: store)
    }

    /// Handles `keyword` texted in `text`; `entry` is nil for an account Switchboard does not know.
    func handle(
        _ keyword: ConsentKeyword, text: InboundText, eventId: String, entry: AccountDirectory.Entry?, logger: Logger
    ) async throws -> Outcome {
        guard let entry else {
            guard keyword == .optOut else {
                return Outcome(
                    result: .ignored("\(keyword.providerType) for unknown account \(text.accountId)"),
                    changedNothing: true)
            }
            // Never skipped: the DLQ keeps the opt-out, to redrive once the account is added.
            throw ProcessingFailure.permanent(
                "account.unknown_opt_out",
                "a STOP for account \(text.accountId), which Switchboard does not know; redrive it once the account is added"
            )
        }
        switch keyword {
        case .help:
            return try await help(text, eventId: eventId, entry: entry, logger: logger)
        case .optIn
        where try await store.subscriber(accountId: entry.account.id, phone: text.from)?.state == .subscribed:
            // "Yes" from someone already subscribed answers a question; it changes nothing and notes nothing.
            return Outcome(
                result: .ignored("an opt-in word from a subscribed customer changes nothing"), changedNothing: true)
        case .optOut, .optIn:
            return Outcome(
                result: try await change(keyword, text, eventId: eventId, entry: entry, logger: logger),
                changedNothing: false)
        }
    }

    /// Records the opt-out or opt-in (with its follow-up), then sends the one confirmation where the account does.
    private func change(
        _ keyword: ConsentKeyword, _ text: InboundText, eventId: String, entry: AccountDirectory.Entry, logger: Logger
    ) async throws -> HandlerResult {
        let account = entry.account
        let word = String(text.body.trimmingCharacters(in: .whitespacesAndNewlines).prefix(160))
        let optOut = keyword == .optOut
        let change = ConsentChange(
            accountId: account.id, phone: text.from, state: optOut ? .unsubscribed : .subscribed, at: text.receivedAt,
            source: text.optOutType.map(ConsentSource.providerKeyword) ?? ConsentSource.keyword(keyword),
            name: text.customer.name, email: text.customer.email, eventId: eventId, keyword: word
        )
        // A disconnected account gets no Gorgias call, now or later; the opt-out itself stands.
        let followUp =
            account.status == .connected
            ? followUp(keyword, word: word, text: text, eventId: eventId, account: account) : nil
        guard case .applied(let previous)? = try await store.applyConsent(change, followUp: followUp) else {
            logger.info(
                "consent keyword older than the consent on record; nothing changed",
                metadata: ["keyword": "\(keyword.providerType)"])
            return .ignored("a newer consent change stands")
        }
        logger.info(
            "consent recorded",
            metadata: [
                "keyword": "\(keyword.providerType)", "state": "\(change.state.rawValue)",
                "followup": "\(followUp != nil)",
            ]
        )
        guard account.status == .connected else { return .processed }
        // A START from someone already subscribed (an extra "YES") is not confirmed again; a keyword the provider
        // answers itself is not answered twice.
        guard !Self.providerAnswers(text, account: account), optOut || previous != .subscribed else {
            return .processed
        }
        let body =
            optOut
            ? ConsentNotes.optOutConfirmation(brand: account.settings.brand)
            : ConsentNotes.optInConfirmation(brand: account.settings.brand)
        let outcome = try await sms.send(
            entry, key: "sms:\(eventId):\(optOut ? "opt-out" : "opt-in")", to: text.from, body: body)
        logger.info("consent confirmation", metadata: ["outcome": "\(outcome)"])
        return .processed
    }

    /// The note (and close) for the conversation's active ticket: the store finds it in the consent transaction, or
    /// attaches the follow-up to the ticket the customer's next text opens (a STOP may overtake their earlier text).
    private func followUp(_ keyword: ConsentKeyword, word: String, text: InboundText, eventId: String, account: Account)
        -> HelpdeskFollowUp?
    {
        switch keyword {
        case .optOut:
            let closes = account.settings.stopClosesTicket
            return HelpdeskFollowUp(
                accountId: account.id, key: "note:\(eventId):opt-out", ticketId: nil, phone: text.from,
                note: ConsentNotes.optedOutByText(word: word, at: text.receivedAt, ticketClosed: closes),
                closeTicket: closes, createdAt: text.receivedAt
            )
        case .optIn:
            return HelpdeskFollowUp(
                accountId: account.id, key: "note:\(eventId):opt-in", ticketId: nil, phone: text.from,
                note: ConsentNotes.optedInByText(word: word, at: text.receivedAt), closeTicket: false,
                createdAt: text.receivedAt
            )
        case .help:
            return nil
        }
    }

    /// Whether the provider answers this keyword itself: the account leaves keyword replies to it and it recognised the
    /// text (its `OptOutType`, or one of its default words). The account's extra words (`ARRET` on a number without
    /// Advanced Opt-Out) and Switchboard's tolerant matches (`Stop.`) it does not recognise: Switchboard answers those,
    /// so every opt-out gets its one confirmation.
    static func providerAnswers(_ text: InboundText, account: Account) -> Bool {
        account.settings.consentReplies == .provider
            && (text.optOutType != nil || ConsentKeyword.isProviderDefault(text.body))
    }

    /// Answers HELP where the account does; the provider's own handling answers it otherwise.
    private func help(_ text: InboundText, eventId: String, entry: AccountDirectory.Entry, logger: Logger) async throws
        -> Outcome
    {
        guard entry.account.status == .connected else {
            return Outcome(result: .ignored("HELP for a disconnected account: nothing sent"), changedNothing: true)
        }
        guard !Self.providerAnswers(text, account: entry.account) else {
            logger.info("HELP left to the SMS provider, which answers it for this account")
            return Outcome(
                result: .processed, changedNothing: true,
                effect:
                    "The SMS provider answers \"\(text.body.trimmingCharacters(in: .whitespacesAndNewlines))\" with its HELP text for this number."
            )
        }
        let outcome = try await sms.send(
            entry, key: "sms:\(eventId):help", to: text.from, body: entry.account.settings.effectiveHelpText)
        logger.info("HELP answered", metadata: ["outcome": "\(outcome)"])
        return Outcome(
            result: .processed, changedNothing: true,
            effect:
                "Switchboard answered \"\(text.body.trimmingCharacters(in: .whitespacesAndNewlines))\" with the account's HELP text by SMS."
        )
    }
}

/// What agents read in notes and customers read in confirmations (CTIA templates: contracts/consent-keywords.json).
enum ConsentNotes {
    static func optedOutByText(word: String, at: Date, ticketClosed: Bool) -> String {
        "The customer opted out of SMS by texting \"\(word)\" at \(readable(at)). They will not receive SMS from this number unless they text START."
            + (ticketClosed ? " Switchboard closed this ticket." : "")
    }

    /// On a ticket a customer who opted out earlier opens by writing in: the agent knows why replies will not go out.
    static func optedOutEarlier(_ subscriber: Subscriber) -> String {
        "This customer opted out of SMS on \(readable(subscriber.changedAt)) (\(ConsentSource.describe(subscriber.source))). Replies on this ticket are not sent as SMS unless they text START again."
    }

    static func optedInByText(word: String, at: Date) -> String {
        "The customer re-subscribed to SMS by texting \"\(word)\" at \(readable(at))."
    }

    static func optOutConfirmation(brand: String) -> String {
        "\(brand): You are unsubscribed and will receive no further messages. Reply START to resubscribe."
    }

    static func optInConfirmation(brand: String) -> String {
        "\(brand): You are subscribed to messages again. Msg&data rates may apply. Reply HELP for help, STOP to unsubscribe."
    }

    static func readable(_ date: Date) -> String {
        RFC3339.format(date).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }
}
