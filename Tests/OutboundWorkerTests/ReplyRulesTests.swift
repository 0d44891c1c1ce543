import Foundation
@testable import OutboundWorker
import Testing
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardJSON
import SwitchboardSMS

/// The rules that decide whether an agent's message becomes an SMS, and what the SMS carries (no I/O).
@Suite("Reply rules")
struct ReplyRulesTests {
    static func message(_ fields: [String: JSONValue]) throws -> GorgiasMessage {
        var document: [String: JSONValue] = [
            "id": 1, "from_agent": true, "channel": "sms", "via": "helpdesk", "public": true,
        ]
        for (key, value) in fields { document[key] = value }
        return try JSONDecoder().decode(GorgiasMessage.self, from: Data(JSONValue.object(document).serialized().utf8))
    }

    @Test(
        "which messages are sent as SMS",
        arguments: [
            ([:], false, true),
            (["from_agent": false], false, false),
            (["public": false], false, false),
            (["channel": "internal-note"], false, false),
            (["external_id": "note:abc"], false, false),
            (["external_id": "switchboard:abc"], false, false),
            (["via": "rule"], false, false),
            (["via": "rule"], true, true),
            (["channel": "email"], false, false),
            (["channel": "api", "via": "api"], false, true),
        ] as [([String: JSONValue], Bool, Bool)]
    )
    func classification(fields: [String: JSONValue], forwardRuleReplies: Bool, forwarded: Bool) throws {
        var settings = AccountSettings(brand: "Acme")
        settings.forwardRuleReplies = forwardRuleReplies
        let decision = ReplyClassifier.classify(try Self.message(fields), settings: settings)
        #expect((decision == .forward) == forwarded, "\(fields): \(decision)")
    }

    @Test("reply text prefers stripped text, then body text, then the HTML as plain text")
    func replyText() throws {
        #expect(ReplyContent(try Self.message(["stripped_text": " hi ", "body_text": "hi\n> quoted"])).text == "hi")
        #expect(ReplyContent(try Self.message(["stripped_text": "  ", "body_text": "body"])).text == "body")
        #expect(ReplyContent(try Self.message(["body_html": "<p>Hello &amp; welcome</p>"])).text == "Hello & welcome")
    }

    @Test("images become MMS media; other attachments are named for a note")
    func attachments() throws {
        let content = ReplyContent(
            try Self.message([
                "body_text": "see attached",
                "attachments": [
                    ["url": "https://cdn.example/a.png", "content_type": "image/png"],
                    ["url": "https://cdn.example/b.JPG"],
                    ["url": "https://cdn.example/c.pdf", "name": "invoice.pdf", "content_type": "application/pdf"],
                ],
            ]))
        #expect(content.mediaURLs == ["https://cdn.example/a.png", "https://cdn.example/b.JPG"])
        #expect(content.unsupportedAttachments == ["invoice.pdf"])
        #expect(!content.isEmpty)
    }

    @Test("#optout and #opt-out are commands in any case, not inside other words")
    func optOutCommand() throws {
        for (text, expected) in [
            ("Done. #optout", true), ("#OPT-OUT", true), ("#optouts please", false), ("no command", false),
        ] {
            #expect(
                ReplyContent(try Self.message(["body_text": .string(text)])).hasOptOutCommand == expected, "\(text)")
        }
    }

    @Test("a body over the provider's limit is too long; an empty one is empty")
    func limits() throws {
        let long = String(repeating: "a", count: SMSSegments.maximumBodyCharacters + 1)
        #expect(ReplyContent(try Self.message(["body_text": .string(long)])).isTooLong)
        #expect(!ReplyContent(try Self.message(["body_text": "short"])).isTooLong)
        #expect(ReplyContent(try Self.message(["body_text": " "])).isEmpty)
    }
}
