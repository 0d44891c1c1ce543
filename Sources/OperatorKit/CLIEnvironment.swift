import ArgumentParser
import Logging
import SwitchboardBase
import SwitchboardObservability
import SwitchboardStore

/// Options every store-using command shares.
public struct StoreOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(
        name: .customLong("database-url"),
        help: "sqlite:<path> or postgres://… (default: $DATABASE_URL, else sqlite:switchboard.sqlite).")
    public var databaseURL: String?

    /// The configured database location.
    public func location(_ environment: Environment) throws -> DatabaseURL {
        if let databaseURL { return try DatabaseURL(databaseURL, setting: "--database-url") }
        return try DatabaseURL.from(environment)
    }
}

/// Process setup for CLI commands: configuration from the environment, quiet logs on stderr.
public enum CLIEnvironment {
    public static func load() throws -> Environment {
        let environment = try Environment.load()
        var quiet = environment
        if quiet["LOG_LEVEL"] == nil { quiet.values["LOG_LEVEL"] = "warning" }
        if quiet["LOG_FORMAT"] == nil { quiet.values["LOG_FORMAT"] = "text" }
        try LoggingSetup.bootstrap(quiet)
        return environment
    }

    public static let logger = Logger(label: "switchboard")
}
