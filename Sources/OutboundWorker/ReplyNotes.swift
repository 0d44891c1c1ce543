import Foundation
import Shared

/// What the agent reads when a reply was not sent, in plain words with what to do next.
enum ReplyNotes {
    static func unsubscribed(_ phone: String, since: Date, source: String) -> String {
        "This reply was not sent by SMS: \(phone) unsubscribed on \(readable(since)) (\(describe(source: source))). Reach the customer another way."
    }

    static func pending(_ phone: String, since: Date) -> String {
        "This reply was not sent by SMS: \(phone) has not confirmed SMS consent (pending since \(readable(since))). Reach the customer another way."
    }

    static func noConsent(_ phone: String) -> String {
        "This reply was not sent by SMS: there is no SMS consent on record for \(phone). Reach the customer another way."
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

    static func optedOutByAgent(_ phone: String, agent: String?, ticketClosed: Bool) -> String {
        "\(phone) was opted out of SMS by \(agent ?? "an agent") with #optout; the reply was not sent."
            + (ticketClosed ? " Switchboard closed this ticket." : "")
    }

    /// How a consent change came about, for people.
    static func describe(source: String) -> String {
        if source.hasPrefix("keyword:") { return "texted \(source.dropFirst("keyword:".count))" }
        if source == "agent:#optout" { return "an agent used #optout" }
        if source.hasPrefix("provider:") { return "the carrier or SMS provider reported an opt-out" }
        return "reported by \(source)"
    }

    static func readable(_ date: Date) -> String {
        RFC3339.format(date).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }
}
