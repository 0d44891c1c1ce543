import ArgumentParser
import SwitchboardStore
import OperatorKit

/// `switchboard migrate`: applies pending schema migrations.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations to the store (workers also migrate at start)."
    )

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let location = try store.location(environment)
        let applied = try await Store.withStore(location, logger: CLIEnvironment.logger, migrate: false) { store in
            try await store.migrate()
        }
        StandardOutput.line(
            applied.isEmpty
                ? "\(location): schema is up to date (version \(Store.latestSchemaVersion))"
                : "\(location): applied migration(s) \(applied.map(String.init).joined(separator: ", ")); schema version \(Store.latestSchemaVersion)"
        )
    }
}
