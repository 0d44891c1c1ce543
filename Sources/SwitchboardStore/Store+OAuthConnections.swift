import Foundation

/// OAuth connections awaiting the merchant's consent (`switchboard accounts connect` → Gorgias' consent screen →
/// the ingress' callback). A `state` is looked up by its hash; the state itself is kept only sealed (so the App
/// Store's install link can send the merchant on with the same one); it is used once and expires.
extension Store {
    /// A connection begun for `accountId` and awaiting its callback.
    public struct PendingOAuthConnection: Sendable, Hashable {
        public var accountId: String
        public var subdomain: String
        /// The callback URL the consent was requested with (the code exchange must repeat it).
        public var redirectURI: String
        public var expiresAt: Date
        /// The state, sealed with the store's secret box (nil for connections begun before it was kept).
        public var sealedState: String?

        public init(
            accountId: String, subdomain: String, redirectURI: String, expiresAt: Date, sealedState: String? = nil
        ) {
            self.accountId = accountId
            self.subdomain = subdomain
            self.redirectURI = redirectURI
            self.expiresAt = expiresAt
            self.sealedState = sealedState
        }
    }

    /// Remembers a connection under `state` (hashed); an earlier one for the same account is replaced.
    public func beginOAuthConnection(state: String, _ connection: PendingOAuthConnection) async throws {
        try await database.transaction { database in
            try await database.query("DELETE FROM oauth_connections WHERE account_id = ?", connection.accountId)
            try await database.query(
                """
                INSERT INTO oauth_connections (state_hash, account_id, subdomain, redirect_uri, expires_at, sealed_state)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                Self.stateHash(state), connection.accountId, connection.subdomain, connection.redirectURI,
                connection.expiresAt.millis, connection.sealedState)
        }
    }

    /// The unexpired connection begun under `state`, left in place (a declined consent does not use it up).
    public func oauthConnection(state: String, now: Date = Date()) async throws -> PendingOAuthConnection? {
        try await database.query(
            """
            SELECT account_id, subdomain, redirect_uri, expires_at, sealed_state FROM oauth_connections
            WHERE state_hash = ? AND expires_at > ?
            """,
            Self.stateHash(state), now.millis
        ).first.flatMap(Self.connection)
    }

    /// Takes the connection begun under `state`, at most once; nil when the state is unknown, used or expired.
    public func takeOAuthConnection(state: String, now: Date = Date()) async throws -> PendingOAuthConnection? {
        let rows = try await database.query(
            """
            DELETE FROM oauth_connections WHERE state_hash = ?
            RETURNING account_id, subdomain, redirect_uri, expires_at, sealed_state
            """,
            Self.stateHash(state))
        guard let row = rows.first, let connection = Self.connection(row), connection.expiresAt > now else {
            return nil
        }
        return connection
    }

    /// The newest unexpired connection awaiting consent for Gorgias `subdomain` and its state's hash (a Gorgias
    /// App Store install names only the subdomain).
    public func pendingOAuthConnection(subdomain: String, now: Date = Date()) async throws -> PendingOAuthConnection? {
        try await database.query(
            """
            SELECT account_id, subdomain, redirect_uri, expires_at, sealed_state FROM oauth_connections
            WHERE subdomain = ? AND expires_at > ? ORDER BY expires_at DESC LIMIT 1
            """,
            subdomain, now.millis
        ).first.flatMap(Self.connection)
    }

    private static func connection(_ row: SQLRow) -> PendingOAuthConnection? {
        guard let account = row["account_id"].text, let subdomain = row["subdomain"].text,
            let redirect = row["redirect_uri"].text
        else { return nil }
        return PendingOAuthConnection(
            accountId: account, subdomain: subdomain, redirectURI: redirect,
            expiresAt: Date(millis: row["expires_at"].int ?? 0), sealedState: row["sealed_state"].text)
    }

    private static func stateHash(_ state: String) -> String { SHA256Digest.hex(Array(state.utf8)) }
}
