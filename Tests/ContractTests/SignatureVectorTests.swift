import Foundation
import Testing
import ProviderContracts
import SwitchboardJSON
import SwitchboardSMS

/// `X-Twilio-Signature` against the table in contracts/twilio/signature-vectors.json: Twilio's own helper library's
/// cases (port removed and added, duplicates, JSON bodies) and shared-key HMAC-SHA256 ones.
@Suite("Twilio signature vectors")
struct SignatureVectorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var key: String
        var algorithm: TwilioSignature.Algorithm
        var url: String
        var params: [(String, String)]
        var jsonBody: String?
        var signature: String
        var valid: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let file = ProviderContracts.folder.appendingPathComponent("twilio/signature-vectors.json")
        guard let data = FileManager.default.contents(atPath: file.path), let table = try? JSONParser.parse(Array(data))
        else { return [] }
        return (table["cases"]?.arrayValue ?? []).compactMap { entry in
            guard let name = entry["name"]?.stringValue, let key = entry["key"]?.stringValue,
                let algorithm = entry["algorithm"]?.stringValue.flatMap(TwilioSignature.Algorithm.init(rawValue:)),
                let url = entry["url"]?.stringValue, let signature = entry["signature"]?.stringValue,
                let valid = entry["valid"]?.boolValue
            else { return nil }
            let params = (entry["params"]?.arrayValue ?? []).compactMap { pair -> (String, String)? in
                guard let items = pair.arrayValue, items.count == 2, let name = items[0].stringValue,
                    let value = items[1].stringValue
                else { return nil }
                return (name, value)
            }
            return Case(
                name: name, key: key, algorithm: algorithm, url: url, params: params,
                jsonBody: entry["jsonBody"]?.stringValue, signature: signature, valid: valid)
        }
    }()

    @Test("the table was read")
    func tableRead() { #expect(Self.cases.count >= 11) }

    @Test("each case validates as the table says", arguments: cases)
    func vector(_ entry: Case) {
        let valid =
            if let body = entry.jsonBody {
                TwilioSignature.isValid(
                    signature: entry.signature, url: entry.url, jsonBody: Array(body.utf8), key: entry.key,
                    algorithm: entry.algorithm)
            } else {
                TwilioSignature.isValid(
                    signature: entry.signature, url: entry.url, parameters: entry.params, key: entry.key,
                    algorithm: entry.algorithm)
            }
        #expect(valid == entry.valid)
    }

    @Test(
        "X-Twilio-Webhooks-Signature-Settings: absent is the auth token and SHA-1; a known algorithm is read; an unknown one is refused"
    )
    func settingsHeader() {
        #expect(TwilioSignature.Settings(header: nil) == .authToken)
        #expect(
            TwilioSignature.Settings(header: "key=KS123,algorithm=HMAC_SHA256")
                == TwilioSignature.Settings(keyId: "KS123", algorithm: .hmacSHA256))
        #expect(TwilioSignature.Settings(header: "key=KS123,algorithm=HMAC_MD5") == nil)
        #expect(TwilioSignature.Settings(header: "algorithm=HMAC_SHA256")?.keyId == nil)
    }
}
