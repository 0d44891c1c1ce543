import Foundation
import SwitchboardBase

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
        if bare == "localhost" { return true }
        guard let address = NetworkAddress(bare) else { return false }
        return address.bytes == [127, 0, 0, 1] || address.bytes.first == 127
            || address.bytes == Array(repeating: 0, count: 15) + [1]
    }

    /// Whether `host` names a public address: an address literal in any form the resolver takes is judged by its
    /// value (`127.1` and `0x7f000001` are loopback); other names except `localhost` are taken as public (DNS is not
    /// consulted here).
    static func isPublic(host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare == "localhost" || bare.hasSuffix(".localhost") || bare.isEmpty { return false }
        return NetworkAddress(bare)?.isPublic ?? true
    }
}
