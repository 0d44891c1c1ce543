import ArgumentParser
import OperatorKit

/// The operators' command line: merchants, consent, the DLQ, lag, topics, traces, producing events, migrations.
/// The services run as their own executables; developer tools are `switchboard-dev`.
@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Operate Switchboard: the SMS ⇄ Gorgias Kafka worker fleet.",
        subcommands: [
            AccountsCommand.self,
            ConsentCommand.self,
            ConversationsCommand.self,
            DeadLetterCommand.self,
            LagCommand.self,
            TopicsCommand.self,
            TraceCommand.self,
            ProduceCommand.self,
            MigrateCommand.self,
        ]
    )

    static func main() async { await runExitingOnConfigurationError() }
}
