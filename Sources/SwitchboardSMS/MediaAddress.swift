import Foundation

/// Which media addresses Switchboard accepts from a provider's webhook: https to a public host (not loopback,
/// link-local, private or unspecified addresses, not `localhost`), or the account's own SMS API host (Twilio's media
/// lives there, and the sandbox's is on loopback).
public enum MediaAddress {
    public static func isAcceptable(_ url: String, providerBaseURL: String) -> Bool {
        guard let parsed = URL(string: url), let host = parsed.host?.lowercased() else { return false }
        if let own = URL(string: providerBaseURL), parsed.scheme == own.scheme, host == own.host?.lowercased(),
            parsed.port == own.port
        {
            return true
        }
        return parsed.scheme?.lowercased() == "https" && isPublic(host: host)
    }

    /// Where a media fetch may follow a redirect: what a webhook's media URL may name (``isAcceptable``), or, when the
    /// provider itself is on loopback (the local sandbox), another loopback address (its stand-in CDN).
    public static func isAcceptableRedirect(_ url: String, providerBaseURL: String) -> Bool {
        if isAcceptable(url, providerBaseURL: providerBaseURL) { return true }
        guard let target = URL(string: url)?.host?.lowercased(),
            let own = URL(string: providerBaseURL)?.host?.lowercased()
        else { return false }
        return isLoopback(own) && isLoopback(target)
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || bare.hasPrefix("127.") || bare == "::1"
    }

    /// Whether `host` names a public address (names other than `localhost` are taken as public: DNS is not consulted).
    static func isPublic(host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare == "localhost" || bare.hasSuffix(".localhost") || bare.isEmpty { return false }
        let v4 = bare.split(separator: ".").compactMap { UInt8($0) }
        if v4.count == 4 && bare.split(separator: ".").count == 4 {
            switch (v4[0], v4[1]) {
            case (0, _), (10, _), (127, _), (169, 254), (192, 168), (100, 64...127): return false
            case (172, 16...31): return false
            default: return !(v4[0] >= 224)
            }
        }
        if bare.contains(":") {
            let lower = bare.lowercased()
            return
                !(lower == "::" || lower == "::1" || lower.hasPrefix("fe80") || lower.hasPrefix("fc")
                || lower.hasPrefix("fd") || lower.hasPrefix("::ffff:"))
        }
        return true
    }
}
