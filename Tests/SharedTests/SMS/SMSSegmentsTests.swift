import Foundation
import Testing

@testable import Shared

@Suite("X-Twilio-Signature with Twilio's published test vectors")
struct TwilioSignatureTests {
    let token = "12345"
    let parameters = [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"), ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]

    @Test("form requests, with and without default ports")
    func form() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        #expect(
            TwilioSignature.compute(url: url, parameters: parameters, authToken: token)
                == "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        #expect(
            TwilioSignature.compute(
                url: "https://mycompany.com:443/myapp.php?foo=1&bar=2", parameters: parameters, authToken: token)
                == "kvajT1Ptam85bY51eRf/AJRuM3w=")
        #expect(
            TwilioSignature.compute(
                url: "http://mycompany.com:80/myapp.php?foo=1&bar=2", parameters: parameters, authToken: token)
                == "0ZXoZLH/DfblKGATFgpif+LLRf4=")
        #expect(
            TwilioSignature.isValid(
                signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                parameters: parameters, authToken: token))
        #expect(
            TwilioSignature.isValid(
                signature: "kvajT1Ptam85bY51eRf/AJRuM3w=", url: url, parameters: parameters, authToken: token))
        #expect(
            !TwilioSignature.isValid(
                signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: url, parameters: parameters, authToken: "wrong"))
        #expect(
            !TwilioSignature.isValid(
                signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url: url, parameters: parameters + [("Extra", "1")],
                authToken: token))
    }

    @Test("repeated parameters are sorted and de-duplicated")
    func repeated() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        let parameters = [
            ("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234"),
        ]
        #expect(
            TwilioSignature.compute(url: url, parameters: parameters, authToken: token)
                == "IK+Dwps556ElfBT0I3Rgjkr1wJU=")
    }

    @Test("JSON bodies are checked through bodySHA256")
    func json() {
        let body = Array(#"{"property": "value", "boolean": true}"#.utf8)
        let url =
            "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        #expect(
            TwilioSignature.isValid(
                signature: "a9nBmqA0ju/hNViExpshrM61xv4=", url: url, jsonBody: body, authToken: token))
        #expect(
            !TwilioSignature.isValid(
                signature: "a9nBmqA0ju/hNViExpshrM61xv4=", url: url, jsonBody: body + [0x20], authToken: token))
    }
}

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
