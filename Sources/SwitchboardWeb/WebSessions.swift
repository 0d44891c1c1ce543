import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SwitchboardBase
import SwitchboardStore

/// Signed-in browser sessions of one web surface, kept in the store so every replica knows them.
///
/// The cookie holds a random session id (never a credential); the store keeps only its SHA-256. The cookie is
/// `HttpOnly` and `SameSite=Strict`, `Secure` unless the surface is served on loopback over plain HTTP, and lives
/// as long as the session (`lifetime`); signing out ends it everywhere. Each session has its own CSRF token, which
/// every state-changing form carries.
public struct WebSessions: Sendable {
    public let surface: String
    public let cookieName: String
    public let lifetime: Duration
    /// Marks the cookie `Secure` (off for `http://127.0.0.1`, where browsers would drop it).
    public let secureCookie: Bool
    private let store: Store
    private let time: any TimeSource

    public init(
        surface: String, store: Store, secureCookie: Bool, lifetime: Duration = .seconds(8 * 3600),
        time: any TimeSource = .system
    ) {
        self.surface = surface
        self.cookieName = "switchboard_\(surface)_session"
        self.store = store
        self.secureCookie = secureCookie
        self.lifetime = lifetime
        self.time = time
    }

    /// Starts a session for `subject`; returns its `Set-Cookie` value.
    public func signIn(_ subject: String) async throws -> String {
        let id = Self.randomToken()
        let session = WebSession(
            surface: surface, subject: subject, csrf: Self.randomToken(),
            expiresAt: time.date.addingTimeInterval(lifetime.seconds))
        try await store.purgeExpiredWebSessions(now: time.date)
        try await store.createWebSession(idHash: Self.hash(id), session, now: time.date)
        return cookie(value: id, maxAge: Int(lifetime.seconds))
    }

    /// The live session whose cookie `request` carries, if any.
    public func session(of request: Request) async throws -> WebSession? {
        guard let id = Self.cookie(cookieName, in: request) else { return nil }
        return try await store.webSession(idHash: Self.hash(id), surface: surface, now: time.date)
    }

    /// Ends the session `request` carries; returns the `Set-Cookie` value that clears it in the browser.
    public func signOut(_ request: Request) async throws -> String {
        if let id = Self.cookie(cookieName, in: request) { try await store.deleteWebSession(idHash: Self.hash(id)) }
        return cookie(value: "", maxAge: 0)
    }

    private func cookie(value: String, maxAge: Int) -> String {
        "\(cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
            + (secureCookie ? "; Secure" : "")
    }

    /// The value of cookie `name` in `request`'s `Cookie` headers.
    public static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix(name + "=") { return String(pair.dropFirst(name.count + 1)) }
            }
        }
        return nil
    }

    /// 32 random bytes, hex.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    static func hash(_ id: String) -> String {
        SHA256.hash(data: Data(id.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Equal, compared through their digests so the time taken says nothing about where they differ.
    public static func same(_ a: String, _ b: String) -> Bool {
        Array(SHA256.hash(data: Data(a.utf8))) == Array(SHA256.hash(data: Data(b.utf8)))
    }
}
