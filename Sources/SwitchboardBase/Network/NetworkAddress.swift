import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An IP address read the way the system's resolver reads it — so `127.1`, `2130706433`, `0x7f.1`, `0177.0.0.1` and
/// `0:0:0:0:0:0:0:1` are all loopback — and what kind of network it is on.
public struct NetworkAddress: Hashable, Sendable {
    /// 4 bytes (IPv4) or 16 (IPv6).
    public let bytes: [UInt8]

    /// `text` as an address (brackets around IPv6 allowed), or nil when it is a host name.
    public init?(_ text: String) {
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        var v6 = in6_addr()
        if bare.contains(":"), inet_pton(AF_INET6, bare, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        // inet_aton takes what getaddrinfo (and so libcurl) takes: one to four parts, in decimal, octal or hex.
        var v4 = in_addr()
        guard !bare.isEmpty, bare.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == "x" || $0 == "X" }),
            inet_aton(bare, &v4) != 0
        else { return nil }
        bytes = withUnsafeBytes(of: &v4) { Array($0) }
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// Reachable on the public internet: not loopback, private, link-local, carrier-grade NAT, unspecified,
    /// multicast or reserved (an IPv4-mapped or -compatible IPv6 address is judged by its IPv4 address).
    public var isPublic: Bool {
        if bytes.count == 4 {
            switch (bytes[0], bytes[1]) {
            case (0, _), (10, _), (127, _), (169, 254), (192, 168), (100, 64...127), (172, 16...31), (198, 18...19):
                return false
            case (192, 0) where bytes[2] == 0 || bytes[2] == 2, (198, 51) where bytes[2] == 100,
                (203, 0) where bytes[2] == 113:
                return false
            default: return bytes[0] < 224
            }
        }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && (bytes[10..<12] == [0xFF, 0xFF] || bytes[10..<12] == [0, 0]) {
            let embedded = NetworkAddress(bytes: Array(bytes[12..<16]))
            return bytes[10..<12] == [0, 0] && bytes[12..<15].allSatisfy({ $0 == 0 }) ? false : embedded.isPublic
        }
        if bytes[0] == 0xFF { return false }  // multicast
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return false }  // link-local fe80::/10
        if bytes[0] & 0xFE == 0xFC { return false }  // unique local fc00::/7
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0D && bytes[3] == 0xB8 { return false }  // documentation
        return true
    }

    /// Every address `host` resolves to now (empty when it does not resolve); a literal address is itself.
    public static func resolve(_ host: String) -> [NetworkAddress] {
        if let literal = NetworkAddress(host) { return [literal] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &results) == 0 else { return [] }
        defer { freeaddrinfo(results) }
        var addresses: [NetworkAddress] = []
        var next = results
        while let info = next?.pointee {
            if info.ai_family == AF_INET, let address = info.ai_addr {
                address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    var raw = $0.pointee.sin_addr
                    addresses.append(NetworkAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) }))
                }
            } else if info.ai_family == AF_INET6, let address = info.ai_addr {
                address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    var raw = $0.pointee.sin6_addr
                    addresses.append(NetworkAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) }))
                }
            }
            next = info.ai_next
        }
        return addresses
    }
}

/// Whether an outgoing URL may be called: http(s) to a host whose every address is public. Checked when a merchant
/// sets it (by name) and again before each call (after resolution: a name can be pointed at a private address later).
public enum PublicTarget {
    /// Why `url` may not be called, or nil when it may; `resolving` looks the host up (at send time).
    public static func problem(_ url: String, resolving: Bool) -> String? {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            ["http", "https"].contains(scheme),
            let host = parsed.host?.lowercased(), !host.isEmpty
        else { return "must be an http(s) URL" }
        if host == "localhost" || host.hasSuffix(".localhost") { return "must not name this machine" }
        if let literal = NetworkAddress(host) {
            return literal.isPublic ? nil : "must not be a private, loopback or link-local address"
        }
        guard resolving else { return nil }
        let addresses = NetworkAddress.resolve(host)
        if addresses.isEmpty { return "\(host) does not resolve" }
        return addresses.allSatisfy(\.isPublic) ? nil : "\(host) resolves to a private, loopback or link-local address"
    }
}
