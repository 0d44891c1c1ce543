import Foundation
import Testing
import SwitchboardJSON

@Suite("JSON parser")
struct JSONParserTests {
    @Test("parses every JSON value type exactly")
    func parsesValues() throws {
        let value = try JSONParser.parse(
            #"{"a":[1,-2.5,true,false,null,"x\u00e9\ud83d\ude00\n"],"big":9007199254740993,"e":1e3}"#)
        #expect(value["a"] == [1, -2.5, true, false, nil, "xé😀\n"])
        #expect(value["big"] == .int(9_007_199_254_740_993))
        #expect(value["e"]?.doubleValue == 1000)
    }

    @Test(
        "rejects malformed documents with a reason",
        arguments: [
            (#"{"a":1"#, "expected ',' or '}'"),
            (#"{"a":1}x"#, "unexpected data after the document"),
            (#"{"a":1,"a":2}"#, "duplicate key"),
            ("{\"a\":\"\u{01}\"}", "unescaped control character"),
            (#"{"a":"\ud800"}"#, "unpaired surrogate"),
            (#"{"a":01}"#, "expected ',' or '}'"),
            (#"{"a":1e999}"#, "number out of range"),
            (#"[1,]"#, "unexpected character"),
            ("", "unexpected end of input"),
            (#"{"a":tru}"#, "invalid literal"),
        ]
    )
    func rejectsMalformed(text: String, reason: String) {
        #expect {
            try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONParser.Error)?.reason.contains(reason) == true
        }
    }

    @Test("rejects invalid UTF-8 and excessive nesting")
    func rejectsHostileBytes() {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(deep) }
    }

    @Test("serialization round-trips through the parser")
    func roundTrip() throws {
        let value: JSONValue = [
            "text": "quote \" backslash \\ control \u{07} line\u{2028}", "n": 3, "list": [1.5, nil, false],
        ]
        #expect(try JSONParser.parse(value.serialized()) == value)
    }
}

@Suite("RFC 3339 timestamps")
struct RFC3339Tests {
    @Test("parses valid forms to the right instant")
    func parses() throws {
        #expect(RFC3339.parse("1970-01-01T00:00:00Z")?.timeIntervalSince1970 == 0)
        #expect(RFC3339.parse("2026-06-01T14:00:00+02:00") == RFC3339.parse("2026-06-01T12:00:00Z"))
        #expect(RFC3339.parse("2024-02-29T23:59:59.500z")?.timeIntervalSince1970 == 1_709_251_199.5)
    }

    @Test(
        "rejects invalid forms",
        arguments: [
            "2026-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2026-06-01 12:00", "2026-06-01T12:00:00",
            "2026-06-01T24:00:00Z", "yesterday",
        ])
    func rejects(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test("formats and parses back")
    func roundTrip() throws {
        let date = try #require(RFC3339.parse("2031-12-31T23:59:58.123Z"))
        #expect(RFC3339.format(date, fractional: true) == "2031-12-31T23:59:58.123Z")
        #expect(RFC3339.format(date) == "2031-12-31T23:59:58Z")
    }
}
