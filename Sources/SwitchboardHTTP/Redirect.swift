import Foundation

/// Following an HTTP redirect by hand (libcurl is not told to follow them): where it points, and whether the
/// request's credentials may go there.
public enum Redirect {
    /// 301, 302, 303, 307 and 308 name a new location.
    public static func isRedirect(_ status: Int) -> Bool { [301, 302, 303, 307, 308].contains(status) }

    /// The absolute URL a `Location` header names, read relative to the URL that answered it; nil when it is not an
    /// http(s) URL.
    public static func target(_ location: String, from current: String) -> String? {
        guard let base = URL(string: current),
            let resolved = URL(string: location.trimmingCharacters(in: .whitespaces), relativeTo: base)?.absoluteURL,
            ["http", "https"].contains(resolved.scheme?.lowercased() ?? "")
        else { return nil }
        return resolved.absoluteString
    }

    /// Whether two URLs share scheme, host and port (the default port written or not): only then may a request's
    /// credentials follow a redirect from one to the other.
    public static func sameOrigin(_ left: String, _ right: String) -> Bool {
        guard let a = URL(string: left), let b = URL(string: right), let schemeA = a.scheme?.lowercased(),
            let schemeB = b.scheme?.lowercased()
        else { return false }
        func port(_ url: URL, _ scheme: String) -> Int { url.port ?? (scheme == "https" ? 443 : 80) }
        return schemeA == schemeB && a.host?.lowercased() == b.host?.lowercased()
            && port(a, schemeA) == port(b, schemeB)
    }

    /// The path of a URL (`/api/tickets/5`), percent-escapes kept.
    public static func path(_ url: String) -> String? {
        URLComponents(string: url)?.percentEncodedPath
    }
}
