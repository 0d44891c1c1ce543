import Foundation
import NIOCore

/// The URL a provider called, as it signed it (Twilio signs the exact URL, contracts/twilio/signature-vectors.json).
///
/// Behind a TLS proxy the ingress sees `http://` and an inner host; `X-Forwarded-Proto` and `X-Forwarded-Host` say
/// what the provider called, but anyone can send them, so they count only from the proxies named in
/// ``IngressServer/Configuration/trustedProxies``. A configured public URL beats both.
struct PublicURL: Sendable {
    var configured: String?
    var trustedProxies: [ProxyAddress]

    /// An IPv4 or IPv6 address, or a CIDR block of them.
    struct ProxyAddress: Sendable, Hashable {
        var bytes: [UInt8]
        var prefixLength: Int

        /// `10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`; nil when it is none of these.
        init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1)
            guard let address = parts.first, let bytes = Self.bytes(String(address)) else { return nil }
            let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
            guard let length, (0...bytes.count * 8).contains(length) else { return nil }
            self.bytes = bytes
            self.prefixLength = length
        }

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefixLength
            for (mine, theirs) in zip(bytes, address) where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if mine & mask != theirs & mask { return false }
                remaining -= bits
            }
            return true
        }

        static func bytes(_ text: String) -> [UInt8]? {
            if let v4 = try? SocketAddress(ipAddress: text, port: 0), case .v4(let address) = v4 {
                return withUnsafeBytes(of: address.address.sin_addr.s_addr) { Array($0) }
            }
            if let v6 = try? SocketAddress(ipAddress: text, port: 0), case .v6(let address) = v6 {
                return withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
            }
            return nil
        }
    }

    /// The public URL of a request to `uri` that reached `host` (the Host header) from `peer`.
    func url(
        uri: String, host: String?, peer: SocketAddress?, forwardedProto: String?, forwardedHost: String?,
        listening: String
    ) -> String {
        if let configured { return configured + uri }
        if isTrusted(peer),
            let proto = forwardedProto?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased(),
            ["http", "https"].contains(proto)
        {
            let forwarded = forwardedHost?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces)
            return "\(proto)://\(forwarded ?? host ?? listening)\(uri)"
        }
        return "http://\(host ?? listening)\(uri)"
    }

    func isTrusted(_ peer: SocketAddress?) -> Bool {
        guard let ip = peer?.ipAddress, let bytes = ProxyAddress.bytes(ip) else { return false }
        return trustedProxies.contains { $0.contains(bytes) }
    }
}
