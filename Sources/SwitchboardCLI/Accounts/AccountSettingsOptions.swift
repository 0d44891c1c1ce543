import ArgumentParser
import SwitchboardBase
import Foundation
import SwitchboardDomain

/// The per-account settings, as options shared by `accounts add` (over the defaults) and `accounts set` (over what is
/// stored). Every option is optional: only those given change anything, and the result is checked as a whole
/// (``AccountSettings/problem()``), so both commands refuse the same things with the same words.
struct AccountSettingsOptions: ParsableArguments {
    @Option(help: "Brand name used in HELP and confirmation texts.") var brand: String?
    @Option(help: "Close the open ticket when a customer opts out: true (default) or false.") var stopClosesTicket:
        Bool?
    @Option(help: "A text on a closed ticket: new (open a new ticket, default) or reopen (within the reopen window).")
    var closedTicketPolicy: AccountSettings.ClosedTicketPolicy?
    @Option(help: "Hours after closing during which a text reopens the ticket (policy reopen; default 72).")
    var reopenWindowHours: Int?
    @Option(
        help:
            "Who answers STOP, START and HELP: provider (Twilio's default opt-out handling answers them; default) or switchboard."
    )
    var consentReplies: AccountSettings.ConsentReplies?
    @Option(help: "HELP/INFO reply (default: brand, help contact, rates and opt-out instructions; '' for the default).")
    var helpText: String?
    @Option(
        help: "Help contact for the HELP reply (URL, email or toll-free number); required when Switchboard answers.")
    var helpContact: String?
    @Option(help: "Extra opt-out keywords, comma-separated (e.g. ARRET,ALTO; '' for none).") var extraStopKeywords:
        String?
    @Option(help: "Extra opt-in keywords, comma-separated ('' for none).") var extraStartKeywords: String?
    @Option(help: "Extra help keywords, comma-separated ('' for none).") var extraHelpKeywords: String?
    @Option(
        help:
            "Conversational replies: hours after a customer's last text during which replies go out without consent on record, unless they opted out (off by default; 'off' turns it off)."
    )
    var conversationalReplyHours: String?
    @Option(help: "URL the SMS provider posts delivery statuses to (feeds sms.delivery-status; '' for none).")
    var statusCallbackUrl: String?
    @Option(help: "Send Gorgias rule auto-replies (via: rule) as SMS too: true or false (default).")
    var forwardRuleReplies: Bool?
    @Option(
        help: "Email the merchant is told at when its connection breaks and recovers ('' for none; needs SMTP_URL).")
    var noticeEmail: String?
    @Option(help: "URL that gets the same notices as JSON posts ('' for none).")
    var noticeWebhookUrl: String?

    /// The names of the options given, for the operator's confirmation.
    var given: [String] {
        let all: [(String, Bool)] = [
            ("brand", brand != nil), ("stop-closes-ticket", stopClosesTicket != nil),
            ("closed-ticket-policy", closedTicketPolicy != nil),
            ("reopen-window-hours", reopenWindowHours != nil), ("consent-replies", consentReplies != nil),
            ("help-text", helpText != nil),
            ("help-contact", helpContact != nil), ("extra-stop-keywords", extraStopKeywords != nil),
            ("extra-start-keywords", extraStartKeywords != nil), ("extra-help-keywords", extraHelpKeywords != nil),
            ("conversational-reply-hours", conversationalReplyHours != nil),
            ("status-callback-url", statusCallbackUrl != nil),
            ("forward-rule-replies", forwardRuleReplies != nil), ("notice-email", noticeEmail != nil),
            ("notice-webhook-url", noticeWebhookUrl != nil),
        ]
        return all.filter(\.1).map(\.0)
    }

    /// Applies the given options to `settings`, then checks the whole; throws a usage error naming the setting.
    func apply(to settings: inout AccountSettings) throws {
        if let brand { settings.brand = brand }
        if let stopClosesTicket { settings.stopClosesTicket = stopClosesTicket }
        if let closedTicketPolicy { settings.closedTicketPolicy = closedTicketPolicy }
        if let reopenWindowHours { settings.reopenWindowHours = reopenWindowHours }
        if let consentReplies { settings.consentReplies = consentReplies }
        if let helpText { settings.helpText = helpText.isEmpty ? nil : helpText }
        if let helpContact { settings.helpContact = helpContact.isEmpty ? nil : helpContact }
        if let extraStopKeywords { settings.extraKeywords.optOut = Self.words(extraStopKeywords) }
        if let extraStartKeywords { settings.extraKeywords.optIn = Self.words(extraStartKeywords) }
        if let extraHelpKeywords { settings.extraKeywords.help = Self.words(extraHelpKeywords) }
        if let conversationalReplyHours {
            if conversationalReplyHours.lowercased() == "off" {
                settings.conversationalReplyHours = nil
            } else if let hours = Int(conversationalReplyHours) {
                settings.conversationalReplyHours = hours
            } else {
                throw ValidationError(
                    "--conversational-reply-hours: \"\(conversationalReplyHours)\" is not a number of hours or off")
            }
        }
        if let statusCallbackUrl { settings.statusCallbackURL = statusCallbackUrl.isEmpty ? nil : statusCallbackUrl }
        if let forwardRuleReplies { settings.forwardRuleReplies = forwardRuleReplies }
        if let noticeEmail { settings.noticeEmail = noticeEmail.isEmpty ? nil : noticeEmail }
        if let noticeWebhookUrl { settings.noticeWebhookURL = noticeWebhookUrl.isEmpty ? nil : noticeWebhookUrl }
        if let problem = settings.problem() { throw ValidationError(problem.description) }
    }

    private static func words(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Gives `credentials` the key merchant notices to the webhook are signed with, when a webhook is set and none is
    /// kept yet: `$NOTICE_WEBHOOK_KEY` (to choose it, and tell the merchant) or a fresh random one. Never printed.
    static func keepNoticeKey(
        _ credentials: inout AccountCredentials, settings: AccountSettings, environment: Environment
    ) -> Bool {
        guard settings.noticeWebhookURL != nil else { return false }
        if let chosen = environment["NOTICE_WEBHOOK_KEY"], !chosen.isEmpty {
            credentials.noticeWebhookSecret = chosen
            return true
        }
        guard credentials.noticeWebhookSecret == nil else { return false }
        credentials.noticeWebhookSecret = AccountCredentials.newSecret()
        return true
    }
}

extension AccountSettings.ClosedTicketPolicy: ExpressibleByArgument {}
extension AccountSettings.ConsentReplies: ExpressibleByArgument {}
