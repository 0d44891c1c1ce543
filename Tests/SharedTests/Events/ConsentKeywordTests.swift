import Testing
@testable import SwitchboardDomain

@Suite("Consent keywords")
struct ConsentKeywordTests {
    @Test(
        "opt-out words, any case, trimmed, with trailing punctuation and compounds",
        arguments: [
            "STOP", "stop", " Stop.\n", "STOPALL", "stop all", "STOP ALL!", "UNSUBSCRIBE", "cancel", "End", "quit",
            "REVOKE", "optout", "OPT OUT", "opt-out", "Opt-Out!!", "\n stop all !", "\t-STOP-\r\n", "stop all.\n\n",
        ])
    func optOut(text: String) {
        #expect(ConsentKeyword.match(text) == .optOut)
    }

    @Test(
        "opt-in and help words",
        arguments: [
            ("START", ConsentKeyword.optIn), ("yes", .optIn), ("Unstop", .optIn), ("HELP", .help), ("info?", .help),
        ])
    func others(text: String, keyword: ConsentKeyword) {
        #expect(ConsentKeyword.match(text) == keyword)
    }

    @Test(
        "sentences are messages, not keywords",
        arguments: [
            "STOP PLEASE", "please stop", "Stop sending", "yes please", "help me", "I want to opt out", "", "   ",
            "stop stop", "opt in", "end of story", "S T O P",
        ])
    func notKeywords(text: String) {
        #expect(ConsentKeyword.match(text) == nil)
    }
}

@Suite("Consent keywords: the provider's word and an account's vocabulary")
struct ConsentVocabularyTests {
    let french = ConsentKeyword.Vocabulary(optOut: ["ARRET", "ne plus"], optIn: ["COMMENCER"], help: ["AIDE"])

    @Test(
        "the provider's OptOutType decides over the words: ARRET with OptOutType STOP is an opt-out, even without a vocabulary"
    )
    func providerDecides() {
        #expect(ConsentKeyword.classify("ARRET", optOutType: "STOP") == .optOut)
        #expect(
            ConsentKeyword.classify("Stop", optOutType: "START") == .optIn,
            "the provider's class wins over the matcher's")
        #expect(ConsentKeyword.classify("where is my order", optOutType: "help") == .help)
        #expect(ConsentKeyword.classify("ARRET") == nil, "without the provider or a vocabulary, ARRET is a message")
        #expect(
            ConsentKeyword.classify("STOP", optOutType: "SOMETHING-NEW") == .optOut,
            "an unknown OptOutType falls back to matching")
    }

    @Test("an account's extra words match like the defaults: any case, accents folded, trailing punctuation, two words")
    func extraWords() {
        #expect(ConsentKeyword.match("Arrêt !", extra: french) == .optOut)
        #expect(ConsentKeyword.match("ne-plus", extra: french) == .optOut)
        #expect(ConsentKeyword.match("commencer", extra: french) == .optIn)
        #expect(ConsentKeyword.match("aide?", extra: french) == .help)
        #expect(ConsentKeyword.match("arret maintenant", extra: french) == nil)
        #expect(ConsentKeyword.match("STOP", extra: french) == .optOut, "the defaults still hold")
    }

    @Test("a vocabulary that reuses a default keyword or is not a keyword is refused with its class")
    func vocabularyProblems() {
        #expect(french.problem() == nil)
        #expect(ConsentKeyword.Vocabulary(optIn: ["stop"]).problem()?.keyword == .optIn)
        #expect(ConsentKeyword.Vocabulary(optOut: ["ALTO"], help: ["alto"]).problem()?.keyword == .help)
        #expect(
            ConsentKeyword.Vocabulary(help: ["not a keyword"]).problem()?.reason.contains("one or two words") == true)
        #expect(ConsentKeyword.Vocabulary(optOut: ["STOP2"]).problem() != nil)
    }

    @Test("the quick word count rejects only what has more than two words, and never a keyword")
    func quickWordCount() {
        #expect(ConsentKeyword.hasMoreThanTwoASCIIWords("Hi, a question about order 000123"))
        #expect(ConsentKeyword.hasMoreThanTwoASCIIWords("stop stop stop"))
        for keyword in ["\n stop all !", "stop all.\n\n", "OPT - OUT", "stop\nnow", "Arrêt tout de suite"] {
            #expect(!ConsentKeyword.hasMoreThanTwoASCIIWords(keyword), "\(keyword) takes the full path")
        }
    }
}
