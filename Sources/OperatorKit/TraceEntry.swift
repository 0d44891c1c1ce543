import Foundation

/// One thing Switchboard saw or did for a conversation: an event and its outcome, a record in a retry tier or the
/// DLQ, a ticket status, an SMS state, an effect, a helpdesk note, a consent change.
public struct TraceEntry: Codable, Sendable {
    /// When it happened, where known.
    public var at: Date?
    /// `event`, `retry`, `dead-letter`, `ticket`, `sms`, `effect`, `note`, `consent`.
    public var kind: String
    /// What happened, in words; never a message body.
    public var what: String
    /// Where to look further (a record's `topic:partition:offset`, a ticket, an SMS id).
    public var reference: String?

    /// This entry with its phone numbers masked.
    public var masked: TraceEntry {
        var masked = self
        masked.what = PhoneMask.mask(what)
        masked.reference = reference.map(PhoneMask.mask)
        return masked
    }
}

/// Phone numbers as the trace prints them: `+1555•••1111` unless revealed.
public enum PhoneMask {
    /// `text` with every E.164-looking number masked.
    public static func mask(_ text: String) -> String {
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "+" {
                let digits = text[text.index(after: index)...].prefix { $0.isASCII && $0.isNumber }
                if digits.count >= 8 {
                    result += "+" + digits.prefix(4) + "•••" + digits.suffix(4)
                    index = digits.endIndex
                    continue
                }
            }
            result.append(text[index])
            index = text.index(after: index)
        }
        return result
    }
}
