import Testing
import TestSupport
@testable import SwitchboardDomain

/// Seeded fuzzing of consent keyword matching (issue 9): decorated keywords always match, a keyword inside a
/// sentence never does, and no string that is not a keyword's letters is ever taken for one.
@Suite("Consent keyword properties")
struct KeywordPropertyTests {
    static let forms: [(text: String, keyword: ConsentKeyword)] =
        ConsentKeyword.optOutWords.map { ($0, .optOut) } + ConsentKeyword.optInWords.map { ($0, .optIn) }
        + ConsentKeyword.helpWords.map { ($0, .help) } + [
            ("OPT OUT", .optOut), ("OPT-OUT", .optOut), ("STOP ALL", .optOut),
        ]
    static let allWords = Set(forms.map { $0.text.filter(\.isLetter) })
    let seed = FuzzGenerator.seed

    @Test("any casing, surrounding whitespace and trailing punctuation still match")
    func decoratedKeywords() {
        var random = FuzzGenerator(seed: seed)
        for _ in 0..<FuzzGenerator.iterations {
            let form = Self.forms.randomElement(using: &random)!
            let text = decorate(form.text, &random)
            #expect(ConsentKeyword.match(text) == form.keyword, "seed \(seed): \(text.debugDescription)")
        }
    }

    @Test("a keyword followed by any other word is a message")
    func keywordsInSentences() {
        var random = FuzzGenerator(seed: seed)
        for _ in 0..<FuzzGenerator.iterations {
            let form = Self.forms.filter { !$0.text.contains(where: { $0 == " " || $0 == "-" }) }.randomElement(
                using: &random)!
            let word = String(
                (0..<Int.random(in: 1...8, using: &random)).map { _ in
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ".randomElement(using: &random)!
                })
            guard !["ALL", "OUT"].contains(word) else { continue }
            let text = decorate(form.text + " " + word, &random)
            #expect(ConsentKeyword.match(text) == nil, "seed \(seed): \(text.debugDescription)")
        }
    }

    @Test("random text matches only when its letters spell a keyword")
    func randomText() {
        var random = FuzzGenerator(seed: seed)
        for _ in 0..<FuzzGenerator.iterations {
            let text =
                Bool.random(using: &random)
                ? random.string() : decorate(mangle(Self.forms.randomElement(using: &random)!.text, &random), &random)
            if ConsentKeyword.match(text) != nil {
                #expect(
                    Self.allWords.contains(text.uppercased().filter(\.isLetter)),
                    "seed \(seed): \(text.debugDescription) matched")
            }
        }
    }

    /// Random casing, whitespace around, and up to three trailing punctuation marks.
    func decorate(_ text: String, _ random: inout FuzzGenerator) -> String {
        let cased = String(text.map { Bool.random(using: &random) ? Character($0.lowercased()) : $0 })
        let space = { (random: inout FuzzGenerator) in
            String((0..<Int.random(in: 0...2, using: &random)).map { _ in " \n\t\r".randomElement(using: &random)! })
        }
        let punctuation = String(
            (0..<Int.random(in: 0...3, using: &random)).map { _ in ".!?,;:".randomElement(using: &random)! })
        return space(&random) + cased + punctuation + space(&random)
    }

    /// A near miss: one letter dropped, doubled or replaced.
    func mangle(_ text: String, _ random: inout FuzzGenerator) -> String {
        var characters = Array(text)
        let index = Int.random(in: 0..<characters.count, using: &random)
        switch Int.random(in: 0...2, using: &random) {
        case 0: characters.remove(at: index)
        case 1: characters.insert(characters[index], at: index)
        default: characters[index] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".randomElement(using: &random)!
        }
        return String(characters)
    }
}
