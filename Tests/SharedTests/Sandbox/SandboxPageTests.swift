import Testing
import SwitchboardJSON
@testable import Sandbox

/// The sandbox's read-only page escapes every value it shows, attributes included.
@Suite("Sandbox page")
struct SandboxPageTests {
    @Test("a ticket's status lands in a class attribute escaped")
    func statusEscaped() {
        var account = GorgiasAccount(subdomain: "acme", email: nil, apiKey: "k", oauthToken: nil)
        account.tickets = [["id": 1, "status": "x\"><img src=x onerror=alert(1)>", "subject": "s", "messages": []]]
        let page = SandboxPage.gorgias(account)
        #expect(!page.contains("<img"), "\(page)")
        #expect(page.contains("class=\"ticket x&quot;&gt;&lt;img"))
    }
}
