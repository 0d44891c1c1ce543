import ArgumentParser
import Foundation
import Shared

/// The operator CLI: local fleet, embedded broker, sandbox, accounts, DLQ, lag, benchmarks.
@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Operate Switchboard: the SMS ⇄ Gorgias Kafka worker fleet.",
        subcommands: [
            DevCommand.self,
            ProduceCommand.self,
            TopicsCommand.self,
            DeadLetterCommand.self,
            LagCommand.self,
            IngressCommand.self,
            AccountsCommand.self,
            ConsentCommand.self,
            ConversationsCommand.self,
            TraceCommand.self,
            ConsoleCommand.self,
            MigrateCommand.self,
            BrokerCommand.self,
            SandboxCommand.self,
            BenchCommand.self,
        ]
    )

    /// Parses and runs the command; invalid configuration exits 78 (EX_CONFIG) naming the setting, like the workers.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigurationError {
            StandardError.line("switchboard: \(error)")
            Foundation.exit(78)
        } catch {
            exit(withError: error)
        }
    }
}
