import Testing
import SwitchboardBase

/// Addresses read as the resolver reads them, and which of them are on the public internet.
@Suite("Network addresses")
struct NetworkAddressTests {
    @Test(
        "loopback, private, link-local and reserved addresses in every spelling the resolver takes are not public",
        arguments: [
            "127.0.0.1", "127.1", "2130706433", "0x7f.1", "0177.0.0.1", "0", "10.1.2.3", "172.16.0.1", "192.168.1.1",
            "169.254.169.254", "100.64.0.1", "198.18.0.1", "192.0.2.1", "198.51.100.1", "203.0.113.1", "224.0.0.1",
            "255.255.255.255", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
            "fe80::1", "fd00::1", "ff02::1", "2001:db8::1",
        ])
    func notPublic(address: String) throws {
        let parsed = try #require(NetworkAddress(address), "\(address) is an address")
        #expect(!parsed.isPublic)
    }

    @Test("addresses on the public internet", arguments: ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"])
    func isPublic(address: String) throws {
        #expect(try #require(NetworkAddress(address)).isPublic)
    }

    @Test("host names are not addresses; a URL to one is checked again after resolving")
    func names() {
        #expect(NetworkAddress("example.com") == nil && NetworkAddress("deadbeef.example") == nil)
        #expect(PublicTarget.problem("https://hooks.example.com/x", resolving: false) == nil)
        #expect(PublicTarget.problem("https://localhost/x", resolving: false) != nil)
        #expect(PublicTarget.problem("https://0x7f.1/x", resolving: false) != nil)
        #expect(PublicTarget.problem("ftp://hooks.example.com/x", resolving: false) != nil)
    }
}
