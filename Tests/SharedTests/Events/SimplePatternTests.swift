import Foundation
import Testing
@testable import SwitchboardJSON

@Suite("Simple pattern matcher")
struct SimplePatternTests {
    static let patterns = [
        #"^\+[1-9][0-9]{6,14}$"#, #"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"#, #"^[A-Za-z0-9_-]{1,64}$"#, #"^[\x21-\x7E]+$"#,
        "^a?b*c+$",
    ]
    static let inputs = [
        "+15551234567", "+1555123", "+155512", "+0555123456", "+1234567890123456", "15551234567", "acme",
        "acme.shop-1_x",
        "-acme", "", "a b", "SM0123456789abcdef0123456789abcdef", String(repeating: "x", count: 65), "é", "abc", "bbc",
        "ac", "c",
        "a\u{7F}", "~!@#", "a\nb",
    ]

    @Test("agrees with NSRegularExpression on every schema pattern", arguments: patterns)
    func agreesWithFoundation(pattern: String) throws {
        let simple = try #require(SimplePattern(pattern))
        let regex = try NSRegularExpression(pattern: pattern)
        for input in Self.inputs {
            let expected = regex.firstMatch(in: input, range: NSRange(input.startIndex..., in: input)) != nil
            #expect(simple.matches(input) == expected, "\(pattern) on \(input.debugDescription)")
        }
    }

    @Test("declines patterns outside its subset", arguments: ["a|b", "^(ab)+$", "^.*$", "abc", #"^\w+$"#, "^[^a]$"])
    func declines(pattern: String) {
        #expect(SimplePattern(pattern) == nil)
    }
}
