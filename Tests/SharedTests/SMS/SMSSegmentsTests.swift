import Foundation
import Testing
import SwitchboardHTTP
import SwitchboardSMS

@Suite("SMS segments (Twilio's segment calculator rules)")
struct SMSSegmentsTests {
    @Test(
        "GSM-7 and UCS-2 single and concatenated segments",
        arguments: [
            ("", SMSSegments.Encoding.gsm7, 1),
            (String(repeating: "a", count: 160), .gsm7, 1),
            (String(repeating: "a", count: 161), .gsm7, 2),
            (String(repeating: "a", count: 306), .gsm7, 2),
            (String(repeating: "a", count: 307), .gsm7, 3),
            (String(repeating: "€", count: 80), .gsm7, 1),
            (String(repeating: "€", count: 81), .gsm7, 2),
            (String(repeating: "a", count: 159) + "€", .gsm7, 2),
            // An escape pair is never split: naive septet counting (306 / 153) would say 2.
            (String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152), .gsm7, 3),
            (String(repeating: "é", count: 160), .gsm7, 1),
            ("Café ç", .ucs2, 1),
            (String(repeating: "ç", count: 70), .ucs2, 1),
            (String(repeating: "ç", count: 71), .ucs2, 2),
            (String(repeating: "😀", count: 35), .ucs2, 1),
            (String(repeating: "😀", count: 36), .ucs2, 2),
            // A surrogate pair is never split: naive unit counting (134 / 67) would say 2.
            (String(repeating: "ç", count: 66) + "😀" + String(repeating: "ç", count: 66), .ucs2, 3),
            ("Your order shipped! ’", .ucs2, 1),
            // CR LF is two GSM-7 characters (Swift sees one Character, "\r\n", which is in no GSM table).
            ("line one\r\nline two", .gsm7, 1),
            (String(repeating: "\r\n", count: 80), .gsm7, 1),
            (String(repeating: "\r\n", count: 81), .gsm7, 2),
        ])
    func segments(body: String, encoding: SMSSegments.Encoding, segments: Int) {
        let count = SMSSegments.count(body)
        #expect(count.encoding == encoding)
        #expect(count.segments == segments)
    }
}

@Suite("Form encoding")
struct FormEncodingTests {
    @Test("round-trips and escapes like a browser form")
    func roundTrip() {
        let fields = [
            ("To", "+15551234567"), ("Body", "Hi & bye = 100% ☺"), ("MediaUrl", "https://x/a.png"),
            ("MediaUrl", "https://x/b.png"),
        ]
        let encoded = FormEncoding.encode(fields)
        #expect(encoded.hasPrefix("To=%2B15551234567&Body=Hi+%26+bye+%3D+100%25+%E2%98%BA"))
        let decoded = FormEncoding.decode(encoded)
        #expect(decoded.map(\.0) == fields.map(\.0))
        #expect(decoded.map(\.1) == fields.map(\.1))
    }
}
