import Foundation

/// Consent keywords (contracts/consent-keywords.json): a superset of Twilio's defaults and the FCC's list, matched on
/// the whole message, case-insensitive, trimmed, tolerant of trailing punctuation and inner spaces or hyphens
/// (`Stop.`, ` stop\n`, `OPT-OUT`, `stop all!`). "STOP PLEASE" is a message, not a keyword, as for Twilio.
///
/// The provider's word counts first: when its opt-out handling recognised the text (Twilio's `OptOutType`, which
/// also covers a Messaging Service's custom and non-English keywords), that decides; otherwise the default words
/// and the account's extra ones (``Vocabulary``) are matched.
public enum ConsentKeyword: String, Sendable, Hashable, CaseIterable {
    case optOut
    case optIn
    case help

    static let optOutWords: Set<String> = [
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
    ]
    static let optInWords: Set<String> = ["START", "YES", "UNSTOP"]
    static let helpWords: Set<String> = ["HELP", "INFO"]

    /// Whether the SMS provider's own opt-out handling recognises `body` (and so answers it where the account leaves
    /// keyword replies to the provider): one of Twilio's default words, the whole body, any case, surrounding white
    /// space aside (contracts/consent-keywords.json). Switchboard's matcher takes more (punctuation, `OPT OUT`, the
    /// account's extra words); those the provider does not answer, so Switchboard does.
    public static func isProviderDefault(_ body: String) -> Bool {
        let word = body.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        return optOutWords.contains(word) || optInWords.contains(word) || helpWords.contains(word)
    }

    /// The provider's name for this keyword class (Twilio's `OptOutType` values).
    public var providerType: String {
        switch self {
        case .optOut: "STOP"
        case .optIn: "START"
        case .help: "HELP"
        }
    }

    /// The keyword class of a provider's `OptOutType` value (`STOP`, `START`, `HELP`, any case), if it is one.
    public init?(providerType: String) {
        guard let match = Self.allCases.first(where: { $0.providerType == providerType.uppercased() }) else {
            return nil
        }
        self = match
    }

    /// Per-account keywords beyond the defaults (a merchant's Spanish or French words, say), matched like them.
    public struct Vocabulary: Codable, Sendable, Hashable {
        public var optOut: [String]
        public var optIn: [String]
        public var help: [String]

        public init(optOut: [String] = [], optIn: [String] = [], help: [String] = []) {
            self.optOut = optOut
            self.optIn = optIn
            self.help = help
        }

        public static let none = Vocabulary()

        public var isEmpty: Bool { optOut.isEmpty && optIn.isEmpty && help.isEmpty }

        /// The first word that cannot be a keyword, with its class and why: keywords are one or two words of
        /// letters, and no word may mean two things (a default keyword or another class).
        public func problem() -> (keyword: ConsentKeyword, reason: String)? {
            var seen: [String: ConsentKeyword] = [:]
            for (keyword, words) in [(ConsentKeyword.optOut, optOut), (.optIn, optIn), (.help, help)] {
                for word in words {
                    guard let normalized = ConsentKeyword.normalize(word),
                        normalized.allSatisfy({ $0.isLetter || $0 == " " })
                    else {
                        return (keyword, "\"\(word)\" is not a keyword: use one or two words of letters")
                    }
                    if let other = seen[normalized] ?? ConsentKeyword.defaultMatch(normalized), other != keyword {
                        return (keyword, "\"\(word)\" already means \(other.providerType)")
                    }
                    seen[normalized] = keyword
                }
            }
            return nil
        }

        func keyword(for normalized: String) -> ConsentKeyword? {
            if optOut.contains(where: { ConsentKeyword.normalize($0) == normalized }) { return .optOut }
            if optIn.contains(where: { ConsentKeyword.normalize($0) == normalized }) { return .optIn }
            if help.contains(where: { ConsentKeyword.normalize($0) == normalized }) { return .help }
            return nil
        }
    }

    /// The keyword a message is: the provider's `OptOutType` when it gave one, else the default words, else the
    /// account's extra words.
    public static func classify(_ body: String, optOutType: String? = nil, extra: Vocabulary = .none) -> ConsentKeyword?
    {
        if let optOutType, let provider = ConsentKeyword(providerType: optOutType) { return provider }
        return match(body, extra: extra)
    }

    /// The keyword a message is by its words alone, if it is one.
    public static func match(_ body: String, extra: Vocabulary = .none) -> ConsentKeyword? {
        guard let normalized = normalize(body) else { return nil }
        return defaultMatch(normalized) ?? extra.keyword(for: normalized)
    }

    /// Default words; of two words only the documented compounds (OPT OUT, OPT-OUT, STOP ALL) count.
    private static func defaultMatch(_ normalized: String) -> ConsentKeyword? {
        let joined = normalized.replacingOccurrences(of: " ", with: "")
        if joined != normalized && !["OPTOUT", "STOPALL"].contains(joined) { return nil }
        if optOutWords.contains(joined) { return .optOut }
        if optInWords.contains(joined) { return .optIn }
        if helpWords.contains(joined) { return .help }
        return nil
    }

    /// The message as a keyword candidate: trimmed, accents folded (`Arrêt` is `ARRET`), upper-cased, trailing
    /// punctuation dropped, one or two words
    /// (separated by a space, a hyphen or a tab) joined by one space; nil for anything longer.
    static func normalize(_ body: String) -> String? {
        if Self.hasMoreThanTwoASCIIWords(body) { return nil }  // most texts: no folding or upper-casing needed
        var text = body.trimmingCharacters(in: .whitespacesAndNewlines).folding(
            options: .diacriticInsensitive, locale: nil
        ).uppercased()
        while let last = text.last, ".!?,;:".contains(last) { text.removeLast() }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "\t" })
        guard (1...2).contains(words.count) else { return nil }
        return words.count == 1 ? String(words[0]) : words[0] + " " + words[1]
    }

    private static let trailingPunctuation: Set<UInt8> = Set(".!?,;:".utf8)

    /// Whether an ASCII message certainly has more than two words as ``normalize(_:)`` splits them: tokens between
    /// spaces, hyphens and tabs that hold more than line breaks and punctuation (which trimming and the trailing
    /// punctuation rule may remove). False for anything else, which then takes the full path.
    static func hasMoreThanTwoASCIIWords(_ body: String) -> Bool {
        var words = 0
        var inWord = false
        for byte in body.utf8 {
            if byte >= 0x80 { return false }
            if byte == 0x20 || byte == 0x2D || byte == 0x09 {
                inWord = false
            } else if !(0x0A...0x0D).contains(byte), !Self.trailingPunctuation.contains(byte), !inWord {
                inWord = true
                words += 1
                if words > 2 { return true }
            }
        }
        return false
    }
}
