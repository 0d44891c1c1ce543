import Foundation
import Testing
import SwitchboardBase
import TestSupport

/// The one escaper every page uses, per Unicode scalar: what a browser reads back is what was put in, whatever
/// combining marks follow a quote.
@Suite("HTML escaping")
struct HTMLTests {
    /// The entities the escaper writes, decoded again per Unicode scalar (as an HTML parser does inside an attribute
    /// value; `String`'s own replacing works on grapheme clusters, which a combining mark after `;` would hide).
    static func decoded(_ escaped: String) -> String {
        let entities: [String: Unicode.Scalar] = [
            "&quot;": "\"", "&#39;": "'", "&#96;": "`", "&lt;": "<", "&gt;": ">", "&amp;": "&",
        ]
        var scalars = Array(escaped.unicodeScalars)[...]
        var result = String.UnicodeScalarView()
        decoding: while let first = scalars.first {
            if first == "&" {
                for (entity, scalar) in entities where scalars.starts(with: entity.unicodeScalars) {
                    result.append(scalar)
                    scalars = scalars.dropFirst(entity.unicodeScalars.count)
                    continue decoding
                }
            }
            result.append(first)
            scalars = scalars.dropFirst()
        }
        return String(result)
    }

    @Test("a quote followed by a combining mark is one Character but is escaped as the quote it is")
    func combiningQuote() {
        let payload = "\"\u{301} autofocus onfocus=alert(1) x=\""
        let escaped = HTMLText.escape(payload, lineBreaks: false)
        #expect(!escaped.unicodeScalars.contains("\""), "\(escaped)")
        #expect(escaped.hasPrefix("&quot;\u{301}"))
        let page: HTML = "<input value=\"\(payload)\">"
        #expect(page.text.unicodeScalars.filter { $0 == "\"" }.count == 2, "only the attribute's own quotes")
    }

    @Test("property: random strings of markup characters and combining marks escape to no raw markup and decode back")
    func property() {
        let seed = FuzzGenerator.seed
        var generator = FuzzGenerator(seed: seed)
        let alphabet: [String] = [
            "\"", "'", "<", ">", "&", "`", "=", " ", "\n", "a", "é", "e\u{301}", "\u{301}", "\u{20DD}", "\u{FE0F}",
            "\u{200D}", "👩🏽‍💻", "&amp;", "\r\n",
        ]
        for _ in 0..<5_000 {
            let text = (0..<Int.random(in: 0...24, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }.joined()
            let escaped = HTMLText.escape(text, lineBreaks: false)
            #expect(
                !escaped.unicodeScalars.contains { "\"'<>`".unicodeScalars.contains($0) },
                "seed \(seed): \(text.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(Array(Self.decoded(escaped).unicodeScalars) == Array(text.unicodeScalars), "seed \(seed)")
        }
    }

    @Test("interpolation: strings are escaped, HTML is inserted as it is, query values are percent-encoded")
    func interpolation() {
        let reason = "<b>bold</b>"
        let cell: HTML = "<td>\(reason)</td>"
        #expect(cell.text == "<td>&lt;b&gt;bold&lt;/b&gt;</td>")
        let row: HTML = "<tr>\(cell)</tr>"
        #expect(row.text == "<tr><td>&lt;b&gt;bold&lt;/b&gt;</td></tr>")
        let link: HTML = "<a href=\"/dlq/record?at=\(query: "a b&c=\"d\"")\">x</a>"
        #expect(link.text == "<a href=\"/dlq/record?at=a%20b%26c%3D%22d%22\">x</a>")
    }
}
