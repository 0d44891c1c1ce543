import Foundation
import NIOCore
import Testing
@testable import Ingress
import SwitchboardBase
import SwitchboardSMS

/// The ingress' rules that need no I/O: whose forwarded headers count, which media addresses are accepted.
@Suite("Ingress rules")
struct IngressRulesTests {
    let proxy = try! SocketAddress(ipAddress: "10.0.0.5", port: 4000)
    let stranger = try! SocketAddress(ipAddress: "203.0.113.9", port: 4000)

    @Test("X-Forwarded-Proto/Host count only from a trusted proxy; a configured public URL beats both")
    func forwardedHeaders() {
        let rule = PublicURL(configured: nil, trustedProxies: [PublicURL.ProxyAddress("10.0.0.0/8")!])
        func url(_ peer: SocketAddress) -> String {
            rule.url(
                uri: "/twilio/inbound/acme", host: "ingress:8080", peer: peer, forwardedProto: "https",
                forwardedHost: "sms.example.com", listening: "x")
        }
        #expect(url(proxy) == "https://sms.example.com/twilio/inbound/acme")
        #expect(url(stranger) == "http://ingress:8080/twilio/inbound/acme")
        let fixed = PublicURL(
            configured: "https://bridge.example.com", trustedProxies: [PublicURL.ProxyAddress("10.0.0.0/8")!])
        #expect(
            fixed.url(uri: "/x", host: "h", peer: proxy, forwardedProto: "http", forwardedHost: "evil", listening: "x")
                == "https://bridge.example.com/x")
        #expect(PublicURL.ProxyAddress("not-an-ip") == nil && PublicURL.ProxyAddress("10.0.0.0/33") == nil)
        #expect(PublicURL.ProxyAddress("fd00::/8")?.contains(PublicURL.ProxyAddress.bytes("fd12::1")!) == true)
    }

    @Test(
        "media must be https to a public host, or on the account's own provider host",
        arguments: [
            ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", true),
            ("https://cdn.example.com/a.jpg", true),
            ("http://cdn.example.com/a.jpg", false),
            ("file:///etc/passwd", false),
            ("https://169.254.169.254/latest/meta-data", false),
            ("https://127.0.0.1/x", false),
            ("https://10.1.2.3/x", false),
            ("https://[::1]/x", false),
            ("https://localhost/x", false),
            // Address literals in every form the resolver takes are judged by their value.
            ("https://127.1/x", false), ("https://2130706433/x", false), ("https://0x7f000001/x", false),
            ("https://0177.0.0.1/x", false), ("https://2852039166/latest/meta-data", false),
            ("https://[0:0:0:0:0:0:0:1]/x", false), ("https://[::ffff:127.0.0.1]/x", false),
            ("https://[::ffff:a9fe:a9fe]/x", false), ("https://[fe80::1]/x", false), ("https://[fd00::1]/x", false),
            ("https://8.8.8.8/x", true), ("https://[2606:4700::1111]/x", true),
            ("http://127.0.0.1:7000/twilio/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", true),
        ])
    func mediaAddresses(url: String, accepted: Bool) {
        #expect(MediaAddress.isAcceptable(url, providerBaseURL: "http://127.0.0.1:7000/twilio") == accepted)
    }

    @Test("an inbound webhook with a media URL that is not acceptable is refused")
    func refusesMedia() {
        let form = [
            ("MessageSid", "SM1"), ("From", "+15551230000"), ("To", "+15557654321"), ("NumMedia", "1"),
            ("MediaUrl0", "file:///etc/passwd"),
        ]
        #expect(throws: WebhookError.self) {
            try WebhookTranslator.inboundText(
                accountId: "acme", form: form,
                mediaAllowed: { MediaAddress.isAcceptable($0, providerBaseURL: "https://api.twilio.com") })
        }
    }

    @Test("a non-loopback listener needs a public URL; bad trusted proxies are named")
    func configuration() {
        var open = IngressServer.Configuration()
        open.host = "0.0.0.0"
        #expect(throws: ConfigurationError.self) { try open.validate() }
        open.publicURL = "https://bridge.example.com"
        #expect((try? open.validate()) != nil)
        open.trustedProxies = ["proxy.internal"]
        #expect { try open.validate() } throws: { "\($0)".contains("--trusted-proxy") }
    }
}
