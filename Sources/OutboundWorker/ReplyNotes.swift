import Foundation
import SwitchboardDomain
import SwitchboardJSON
import SwitchboardSMS

/// What the agent reads when a reply was not sent, in plain words with what to do next.
enum ReplyNotes {
    /// Why consent blocked a reply, with what could change that: an opt-out stands until the customer texts START;
    /// missing consent may be covered by the account's conversational-replies option.
    static func consentBlocked(_ phone: String, subscriber: Subscriber?, conversationalReplyHours: Int?) -> String {
        let conversational =
            conversationalReplyHours.map {
                " The customer's last text was more than \($0) hours ago, beyond the conversational-reply window."
            }
            ?? " (The account's conversational-replies option, `accounts set --conversational-reply-hours`, would allow replies for a while after the customer's last text.)"
        switch subscriber?.state {
        case .unsubscribed?:
            return unsubscribed(phone, since: subscriber!.changedAt, source: subscriber!.source)
        case .pending?:
            return
                "This reply was not sent by SMS: \(phone) has not confirmed SMS consent (pending since \(readable(subscriber!.changedAt))). Reach the customer another way."
                + conversational
        case .subscribed?, nil:
            return
                "This reply was not sent by SMS: there is no SMS consent on record for \(phone). Reach the customer another way."
                + conversational
        }
    }

    static func unsubscribed(_ phone: String, since: Date, source: String) -> String {
        "This reply was not sent by SMS: \(phone) unsubscribed on \(readable(since)) (\(ConsentSource.describe(source))). Reach the customer another way."
    }

    static func tooLong(characters: Int) -> String {
        "This reply was not sent by SMS: it is \(characters) characters and SMS allows at most \(SMSSegments.maximumBodyCharacters). Shorten it and reply again."
    }

    static func unsupportedAttachments(_ names: [String], nothingSent: Bool) -> String {
        let list = names.joined(separator: ", ")
        return nothingSent
            ? "This reply was not sent by SMS: SMS can only carry PNG, JPEG and GIF images, not \(list)."
            : "The text was sent by SMS, but these attachments were not (SMS can only carry PNG, JPEG and GIF images): \(list)."
    }

    static func providerOptOut(code: Int) -> String {
        "This reply was not delivered: \(SMSErrorCodes.explain(code)). Switchboard marked the customer unsubscribed."
    }

    static func refused(code: Int) -> String {
        "This reply was not sent by SMS: \(SMSErrorCodes.explain(code))."
    }

    static func cannotOptOut(_ phone: String, why: String) -> String {
        "#optout: \(phone) could not be opted out because \(why). The reply was not sent."
    }

    /// `before`: the consent the customer had (nil: none on record), said when it was not a subscription.
    static func optedOutByAgent(_ phone: String, agent: String?, ticketClosed: Bool, before: ConsentState?) -> String {
        let previously =
            switch before {
            case .subscribed?: ""
            case .pending?:
                " They had not confirmed SMS consent; now no reply reaches them by SMS, not even within the conversational-reply window."
            case nil, .unsubscribed?:
                " There was no SMS consent on record; now no reply reaches them by SMS, not even within the conversational-reply window."
            }
        return "\(phone) was opted out of SMS by \(agent ?? "an agent") with #optout; the reply was not sent."
            + previously + (ticketClosed ? " Switchboard closed this ticket." : "")
    }

    static func readable(_ date: Date) -> String {
        RFC3339.format(date).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }
}
