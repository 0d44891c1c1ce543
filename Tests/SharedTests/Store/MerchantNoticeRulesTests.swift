import Foundation
import Testing
import Crypto
import SwitchboardBase
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
        for bad in [
            "ftp://acme.example", "http://localhost/hook", "http://127.1/hook", "http://169.254.169.254/latest",
            "http://2852039166/latest", "http://10.0.0.5/hook", "http://[::1]/hook", "http://[fd00::5]/hook",
        ] {
            settings.noticeWebhookURL = bad
            #expect(settings.problem()?.setting == "--notice-webhook-url", "\(bad)")
        }
    }

    @Test(
        "a webhook by name is checked again when it is called, after resolving: a name that resolves to this machine is refused then"
    )
    func webhookResolvedAtSendTime() {
        // A name /etc/hosts maps to this machine: the host's own name (Debian maps it to 127.0.1.1), else one of
        // Debian's loopback aliases.
        let candidates = [ProcessInfo.processInfo.hostName, "ip6-localhost", "ip6-loopback"]
        let host = candidates.first { !NetworkAddress.resolve($0).isEmpty } ?? candidates[0]
        let url = "https://\(host)/hook"
        #expect(PublicTarget.problem(url, resolving: false) == nil, "by name it may be anything")
        let resolved = NetworkAddress.resolve(host)
        #expect(!resolved.isEmpty && resolved.allSatisfy { !$0.isPublic }, "\(host) → \(resolved)")
        #expect(PublicTarget.problem(url, resolving: true)?.contains("private, loopback or link-local") == true)
        #expect(PublicTarget.problem("https://hooks.invalid/x", resolving: true)?.contains("does not resolve") == true)
    }

    @Test("a notice to the webhook is signed: t=<seconds>,v1=<HMAC-SHA256 of the stamp and the body>")
    func signature() {
        let body = Array(#"{"account":"acme"}"#.utf8)
        let signed = MerchantNotices.signature(body, key: "k3y", at: Date(timeIntervalSince1970: 1_800_000_000))
        let expected = HMAC<SHA256>.authenticationCode(
            for: Array("1800000000.".utf8) + body, using: SymmetricKey(data: Data("k3y".utf8))
        ).map { String(format: "%02x", $0) }.joined()
        #expect(signed == "t=1800000000,v1=\(expected)")
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
        let loneCR = String(
            decoding: SMTPMailer.message(
                from: "alerts@switchboard.test", to: "ops@acme.example", subject: "Hi", body: "a\rb\r\n.\rc"),
            as: UTF8.self)
        #expect(loneCR.hasSuffix("a\r\nb\r\n.\r\nc\r\n"), "a lone CR becomes a line end, never a bare CR")
        #expect(!loneCR.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
    }
}
