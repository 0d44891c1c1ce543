import Foundation
import SwitchboardBase

/// A signed-in browser session of one of Switchboard's web surfaces (the console, the merchant page).
public struct WebSession: Sendable, Hashable {
    /// Which surface it belongs to (`console`, …): a session of one never opens another.
    public var surface: String
    /// Who signed in (an operator, an account).
    public var subject: String
    /// The token every state-changing form of the session carries.
    public var csrf: String
    public var expiresAt: Date

    public init(surface: String, subject: String, csrf: String, expiresAt: Date) {
        self.surface = surface
        self.subject = subject
        self.csrf = csrf
        self.expiresAt = expiresAt
    }
}

/// Sessions by the hash of their id (the id itself, the cookie's value, is never stored), across every replica.
extension Store {
    public func createWebSession(idHash: String, _ session: WebSession, now: Date) async throws {
        try await database.query(
            """
            INSERT INTO web_sessions (id_hash, surface, subject, csrf, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            idHash, session.surface, session.subject, session.csrf, now.millis, session.expiresAt.millis)
    }

    /// The live session with that id hash on `surface`, if any (an expired one is none).
    public func webSession(idHash: String, surface: String, now: Date) async throws -> WebSession? {
        let rows = try await database.query(
            "SELECT subject, csrf, expires_at FROM web_sessions WHERE id_hash = ? AND surface = ? AND expires_at > ?",
            idHash, surface, now.millis)
        guard let row = rows.first, let subject = row["subject"].text, let csrf = row["csrf"].text,
            let expires = row["expires_at"].int
        else { return nil }
        return WebSession(surface: surface, subject: subject, csrf: csrf, expiresAt: Date(millis: expires))
    }

    /// Ends a session (sign-out).
    public func deleteWebSession(idHash: String) async throws {
        try await database.query("DELETE FROM web_sessions WHERE id_hash = ?", idHash)
    }

    /// Removes expired sessions; returns how many.
    @discardableResult
    public func purgeExpiredWebSessions(now: Date) async throws -> Int {
        try await database.query("DELETE FROM web_sessions WHERE expires_at <= ? RETURNING id_hash", now.millis).count
    }
}
