import Logging
import NIOCore
import PostgresNIO

/// One direct connection made when a store opens, so an unreachable server, an unknown database or refused
/// credentials fail within the connect timeout with the reason, instead of after the pool's retries with none.
enum PostgresProbe {
    static func check(
        host: String, port: Int, username: String, password: String?, database: String,
        tls: PostgresConnection.Configuration.TLS, logger: Logger
    ) async throws {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw StoreError(
                .unavailable, "cannot connect to PostgreSQL at \(host):\(port), database \(database): \(reason(error))")
        }
    }

    /// What went wrong, from the server's message or the network error; never the password.
    static func reason(_ error: any Error) -> String {
        guard let psql = error as? PSQLError else { return String(describing: error).prefix(200).description }
        if let message = psql.serverInfo?[.message] { return message }
        if let underlying = psql.underlying { return String(describing: underlying).prefix(200).description }
        return "\(psql.code)"
    }
}
