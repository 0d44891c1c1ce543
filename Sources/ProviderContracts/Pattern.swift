import Foundation

/// Regular expressions from the contract files (ICU syntax, as JSON Schema's `pattern` and Foundation's).
enum Pattern {
    /// Whether `pattern` matches all of `text`.
    static func whole(_ pattern: String, _ text: String) -> Bool {
        text.range(of: "^(?:\(pattern))$", options: .regularExpression) != nil
    }

    /// Whether `pattern` matches somewhere in `text`.
    static func somewhere(_ pattern: String, _ text: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) != nil
    }
}
