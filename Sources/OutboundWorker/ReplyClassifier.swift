import SwitchboardDomain
import SwitchboardGorgias

/// Decides, on the message re-read from Gorgias, whether it is a public agent reply Switchboard should send
/// (contracts/gorgias/schemas/message.schema.json).
///
/// Decisions: rule auto-replies (`via: rule`) are not sent unless the account opts in (`forwardRuleReplies`);
/// replies from bots or other apps through the API are sent like any agent reply — they are public replies meant
/// for the customer; a reply sent on another channel (e.g. email) is that channel's business.
enum ReplyClassifier {
    enum Decision: Equatable {
        case forward
        case ignore(String)
    }

    static let smsChannels: Set<String> = ["sms", "api"]

    static func classify(_ message: GorgiasMessage, settings: AccountSettings) -> Decision {
        guard message.fromAgent == true else { return .ignore("a customer message, not an agent reply") }
        if message.isInternalNote { return .ignore("an internal note") }
        if let externalId = message.externalId, externalId.hasPrefix("note:") || externalId.hasPrefix("switchboard:") {
            return .ignore("created by Switchboard")
        }
        if message.via == "rule" && !settings.forwardRuleReplies {
            return .ignore("a rule auto-reply (this account does not send rule replies by SMS)")
        }
        if let channel = message.channel, !smsChannels.contains(channel) {
            return .ignore("sent on the \(channel) channel, not SMS")
        }
        return .forward
    }
}
