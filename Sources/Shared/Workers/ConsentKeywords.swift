import Foundation

/// Consent keywords (external-apis.md §3.6 and §5): a superset of Twilio's defaults, matched on the whole message,
/// case-insensitive, trimmed, tolerant of trailing punctuation and inner spaces or hyphens (`Stop.`, ` stop\n`,
/// `OPT-OUT`, `stop all!`). "STOP PLEASE" is a message, not a keyword, as for Twilio.
public enum ConsentKeyword: String, Sendable, Hashable {
    case optOut
    case optIn
    case help

    static let optOutWords: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
    static let optInWords: Set<String> = ["START", "YES", "UNSTOP"]
    static let helpWords: Set<String> = ["HELP", "INFO"]

    /// The keyword a message is, if it is one.
    public static func match(_ body: String) -> ConsentKeyword? {
        var text = body.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        while let last = text.last, ".!?,;:".contains(last) { text.removeLast() }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "\t" })
        guard (1...2).contains(words.count) else { return nil }
        let joined = words.joined()
        // Two words only form the documented compounds (OPT OUT, OPT-OUT, STOP ALL).
        if words.count == 2 && !["OPTOUT", "STOPALL"].contains(joined) { return nil }
        if optOutWords.contains(joined) { return .optOut }
        if optInWords.contains(joined) { return .optIn }
        if helpWords.contains(joined) { return .help }
        return nil
    }
}
