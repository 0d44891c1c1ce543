/// SMS segment counting per Twilio's rules (its segment calculator): GSM-7 when every character is in the GSM 03.38
/// basic or extension table (extension characters cost two septets and are never split), otherwise UCS-2 counted in
/// UTF-16 code units (surrogate pairs never split). One segment holds 160 septets or 70 units; concatenated
/// segments hold 153 or 67. Counted per Unicode scalar, as the tables are: CR LF is two GSM-7 characters (as one
/// Swift `Character` it would match neither table).
public enum SMSSegments {
    public enum Encoding: String, Sendable { case gsm7 = "GSM-7", ucs2 = "UCS-2" }

    public struct Count: Sendable, Hashable {
        public var encoding: Encoding
        public var segments: Int
        /// Septets (GSM-7) or UTF-16 code units (UCS-2).
        public var units: Int
    }

    static let basic: Set<Unicode.Scalar> = Set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
            .unicodeScalars)
    static let extended: Set<Unicode.Scalar> = Set("\u{0C}^{}\\[~]|€".unicodeScalars)

    public static func count(_ body: String) -> Count {
        let characters = Array(body.unicodeScalars)
        if characters.allSatisfy({ basic.contains($0) || extended.contains($0) }) {
            let septets = characters.reduce(0) { $0 + (extended.contains($1) ? 2 : 1) }
            guard septets > 160 else { return Count(encoding: .gsm7, segments: septets == 0 ? 1 : 1, units: septets) }
            var segments = 1
            var used = 0
            for character in characters {
                let cost = extended.contains(character) ? 2 : 1
                if used + cost > 153 {
                    segments += 1
                    used = 0
                }
                used += cost
            }
            return Count(encoding: .gsm7, segments: segments, units: septets)
        }
        let units = body.utf16.count
        guard units > 70 else { return Count(encoding: .ucs2, segments: 1, units: units) }
        var segments = 1
        var used = 0
        for scalar in body.unicodeScalars {
            let cost = scalar.value > 0xFFFF ? 2 : 1
            if used + cost > 67 {
                segments += 1
                used = 0
            }
            used += cost
        }
        return Count(encoding: .ucs2, segments: segments, units: units)
    }

    /// Twilio's limit on a message body, in characters.
    public static let maximumBodyCharacters = 1600
}
