import Foundation
import Testing
import ProviderContracts
import SwitchboardDomain
import SwitchboardJSON

/// Switchboard's keyword matcher recognises every word Twilio's default handling and the FCC's revocation rule name
/// (contracts/consent-keywords.json), in any case and with the trimming a phone adds.
@Suite("Consent keywords as documented")
struct ConsentKeywordContractTests {
    static func words(_ path: [String]) -> [String] {
        let file = ProviderContracts.folder.appendingPathComponent("consent-keywords.json")
        guard let data = FileManager.default.contents(atPath: file.path), var value = try? JSONParser.parse(Array(data))
        else { return [] }
        for key in path { value = value[key] ?? .null }
        return (value.arrayValue ?? []).compactMap(\.stringValue)
    }

    @Test(
        "every documented word is the keyword it names",
        arguments: [
            (["twilioDefaults", "optOut"], ConsentKeyword.optOut), (["fccRevocation", "optOut"], .optOut),
            (["twilioDefaults", "optIn"], .optIn), (["twilioDefaults", "help"], .help),
        ])
    func documentedWords(_ path: [String], _ keyword: ConsentKeyword) {
        let words = Self.words(path)
        #expect(!words.isEmpty, "\(path) was read")
        for word in words {
            for variant in [word, word.lowercased(), " \(word.capitalized).\n"] {
                #expect(ConsentKeyword.match(variant) == keyword, "\(variant.debugDescription)")
            }
        }
    }
}
