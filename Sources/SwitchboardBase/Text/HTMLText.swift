import Foundation

/// Converts between Gorgias HTML bodies and plain SMS text.
public enum HTMLText {
    /// `text` safe inside HTML content or a quoted attribute; line breaks become `<br>` unless `lineBreaks` is false.
    ///
    /// Walks Unicode scalars, not `Character`s: a quote followed by a combining mark is one `Character` (and would
    /// match no case here) but two code points to a browser, which sees a bare quote.
    public static func escape(_ text: String, lineBreaks: Bool = true) -> String {
        var output = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": output.append(contentsOf: "&amp;".unicodeScalars)
            case "<": output.append(contentsOf: "&lt;".unicodeScalars)
            case ">": output.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": output.append(contentsOf: "&quot;".unicodeScalars)
            case "'": output.append(contentsOf: "&#39;".unicodeScalars)
            case "`": output.append(contentsOf: "&#96;".unicodeScalars)
            case "\n" where lineBreaks: output.append(contentsOf: "<br>".unicodeScalars)
            default: output.append(scalar)
            }
        }
        return String(output)
    }

    /// Clean text from an HTML body: line breaks for `<br>` and block ends, tags dropped, entities decoded,
    /// blank lines dropped (an SMS has no room for them), trimmed.
    public static func plainText(_ html: String) -> String {
        var text = ""
        var index = html.startIndex
        while index < html.endIndex {
            let character = html[index]
            if character == "<", let close = html[index...].firstIndex(of: ">") {
                let tag = html[html.index(after: index)..<close].lowercased().trimmingCharacters(in: .whitespaces)
                let name = tag.split(whereSeparator: { $0 == " " || $0 == "/" }).first.map(String.init) ?? ""
                if ["br", "p", "/p", "div", "/div", "li", "/li", "tr", "/tr", "h1", "h2", "h3", "/h1", "/h2", "/h3"]
                    .contains(tag.hasPrefix("/") ? "/" + name : name)
                {
                    text += "\n"
                }
                if name == "li" { text += "• " }
                if ["script", "style"].contains(name) {
                    let closing = "</\(name)>"
                    index =
                        html.range(of: closing, options: .caseInsensitive, range: close..<html.endIndex)?.upperBound
                        ?? html.endIndex
                    continue
                }
                index = html.index(after: close)
                continue
            }
            if character == "&", let semicolon = html[index...].prefix(10).firstIndex(of: ";") {
                let entity = String(html[html.index(after: index)..<semicolon])
                if let decoded = decode(entity) {
                    text.append(decoded)
                    index = html.index(after: semicolon)
                    continue
                }
            }
            text.append(character)
            index = html.index(after: index)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        return lines.filter { !$0.isEmpty }.joined(separator: "\n")
    }

    private static func decode(_ entity: String) -> Character? {
        switch entity {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos", "#39": return "'"
        case "nbsp": return " "
        default:
            if entity.hasPrefix("#x"), let value = UInt32(entity.dropFirst(2), radix: 16),
                let scalar = Unicode.Scalar(value)
            {
                return Character(scalar)
            }
            if entity.hasPrefix("#"), let value = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(value) {
                return Character(scalar)
            }
            return nil
        }
    }
}
