/// Twilio error codes explained in words an agent can act on (Twilio's error dictionary, by code).
public enum SMSErrorCodes {
    public static func explain(_ code: Int) -> String {
        switch code {
        case 21610: "the recipient replied STOP and has unsubscribed from this number (Twilio 21610)"
        case 21211: "the phone number is not a valid mobile number (Twilio 21211)"
        case 21408: "sending to this country or region is not enabled on the account (Twilio 21408)"
        case 21606: "the sending number cannot send SMS (Twilio 21606)"
        case 21608: "the number is not verified for this trial account (Twilio 21608)"
        case 21612: "this sender cannot reach that number (Twilio 21612)"
        case 21614: "the number cannot receive SMS, it is probably a landline (Twilio 21614)"
        case 21617: "the message is longer than 1,600 characters (Twilio 21617)"
        case 20003: "the SMS provider rejected Switchboard's credentials (Twilio 20003)"
        case 20429: "the SMS provider is rate limiting requests (Twilio 20429)"
        case 30001: "the message waited too long in the sender's queue and expired (Twilio 30001)"
        case 30002: "the SMS account is suspended (Twilio 30002)"
        case 30003: "the handset is unreachable: switched off or out of coverage (Twilio 30003)"
        case 30004:
            "the message was blocked on its way (Twilio 30004: a carrier or device block, a blocklisted sender or content; it is not an opt-out, so the customer stays subscribed)"
        case 30005: "the number is unknown or no longer in service (Twilio 30005)"
        case 30006: "the number is a landline or its carrier cannot receive SMS (Twilio 30006)"
        case 30007: "the carrier filtered the message as spam (Twilio 30007)"
        case 30008: "the carrier reported an unknown delivery error (Twilio 30008)"
        case 30034: "the sender's 10DLC registration is missing or incomplete (Twilio 30034)"
        case 63014: "the recipient blocked messages from this sender (63014)"
        default: "the SMS provider reported error \(code)"
        }
    }

    /// Codes that mean the recipient opted out at the carrier or provider: the subscriber becomes unsubscribed.
    /// 30004 ("message blocked") is not one: it has many causes, and an opt-out is recorded only on the provider's
    /// opt-out signal (21610) or a channel's block by the user (63014).
    public static let optOutCodes: Set<Int> = [21610, 63014]
}
