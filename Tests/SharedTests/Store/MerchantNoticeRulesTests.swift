import Foundation
import Testing
import SwitchboardDomain
@testable import SwitchboardHTTP
@testable import SwitchboardRuntime
@testable import WorkerKit

/// What a merchant is told, and which notice destinations an account may have: rules that need no I/O.
@Suite("Merchant notice rules")
struct MerchantNoticeRulesTests {
    @Test("notice destinations: one plain email address and an http(s) URL, each named when wrong")
    func destinations() {
        var settings = AccountSettings(brand: "Acme")
        settings.noticeEmail = "ops@acme.example"
        settings.noticeWebhookURL = "https://hooks.acme.example/switchboard"
        #expect(settings.problem() == nil)
        for bad in ["ops", "ops@acme", "a@b.c, d@e.f", "Ops <ops@acme.example>", "ops@acme.example\r\nBcc: x@y.z"] {
            settings.noticeEmail = bad
            #expect(settings.problem()?.setting == "--notice-email", "\(bad)")
        }
        settings.noticeEmail = nil
        settings.noticeWebhookURL = "ftp://acme.example"
        #expect(settings.problem()?.setting == "--notice-webhook-url")
    }

    @Test("a problem notice says what happened, what it means for customers and what to do; a recovery says it is over")
    func words() {
        let problem = MerchantNotices.notice(
            account: "acme", check: "gorgias_integration", healthy: false, detail: "integration 7 deactivated")
        #expect(problem.kind == .problem && problem.subject.contains("acme"))
        #expect(problem.text.contains("agents' replies do not reach your customers"))
        #expect(problem.text.contains("What to do:") && problem.text.contains("integration 7 deactivated"))
        let credentials = MerchantNotices.notice(
            account: "acme", check: "gorgias_credentials", healthy: false, detail: "refused")
        #expect(credentials.text.contains("held, not lost"))
        let recovered = MerchantNotices.notice(
            account: "acme", check: "gorgias_integration", healthy: true, detail: "integration 7 active")
        #expect(recovered.kind == .recovered && recovered.subject.contains("working again"))
    }

    @Test("a notice email's headers cannot be split by a subject or an address")
    func mailHeaders() {
        let message = String(
            decoding: SMTPMailer.message(
                from: "alerts@switchboard.test", to: "ops@acme.example", subject: "Hi\r\nBcc: evil@x.y",
                body: "line\nnext"),
            as: UTF8.self)
        let headers = message.components(separatedBy: "\r\n\r\n")[0]
        #expect(!headers.contains("\r\nBcc:"))
        #expect(message.hasSuffix("line\r\nnext\r\n"))
    }
}
