import Testing

@testable import Shared

@Suite("Consent keywords")
struct ConsentKeywordTests {
    @Test("opt-out words, any case, trimmed, with trailing punctuation and compounds", arguments: [
        "STOP", "stop", " Stop.\n", "STOPALL", "stop all", "STOP ALL!", "UNSUBSCRIBE", "cancel", "End", "quit", "REVOKE", "optout", "OPT OUT", "opt-out", "Opt-Out!!",
    ])
    func optOut(text: String) {
        #expect(ConsentKeyword.match(text) == .optOut)
    }

    @Test("opt-in and help words", arguments: [("START", ConsentKeyword.optIn), ("yes", .optIn), ("Unstop", .optIn), ("HELP", .help), ("info?", .help)])
    func others(text: String, keyword: ConsentKeyword) {
        #expect(ConsentKeyword.match(text) == keyword)
    }

    @Test("sentences are messages, not keywords", arguments: [
        "STOP PLEASE", "please stop", "Stop sending", "yes please", "help me", "I want to opt out", "", "   ", "stop stop", "opt in", "end of story", "S T O P",
    ])
    func notKeywords(text: String) {
        #expect(ConsentKeyword.match(text) == nil)
    }
}
