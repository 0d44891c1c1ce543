import Foundation
import SwitchboardBase

/// `DATABASE_URL`: `sqlite:<path>` (the embedded default) or `postgres://user:password@host:port/database`.
/// ``description`` never shows the password.
public enum DatabaseURL: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(host: String, port: Int, username: String, password: String?, database: String, requireTLS: Bool)

    public static let defaultSQLitePath = "switchboard.sqlite"

    /// Parses `text`; `setting` names the variable in errors.
    public init(_ text: String, setting: String = "DATABASE_URL") throws {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else {
                throw ConfigurationError(
                    setting: setting, reason: "sqlite: needs a file path, e.g. sqlite:switchboard.sqlite")
            }
            self = .sqlite(path: path)
            return
        }
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://"),
            let components = URLComponents(string: text),
            let host = components.host, !host.isEmpty
        else {
            throw ConfigurationError(
                setting: setting, reason: "expected sqlite:<path> or postgres://user:password@host:port/database")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else {
            throw ConfigurationError(setting: setting, reason: "the postgres URL names no database")
        }
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        self = .postgres(
            host: host,
            port: components.port ?? 5432,
            username: components.user?.removingPercentEncoding ?? "postgres",
            password: components.password?.removingPercentEncoding,
            database: database,
            requireTLS: sslmode == "require" || sslmode == "verify-full"
        )
    }

    /// `DATABASE_URL`, or a SQLite file under the working directory.
    public static func from(_ environment: Environment) throws -> DatabaseURL {
        try DatabaseURL(environment["DATABASE_URL"] ?? "sqlite:\(defaultSQLitePath)")
    }

    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let host, let port, let username, _, let database, _):
            "postgres://\(username)@\(host):\(port)/\(database)"
        }
    }
}
