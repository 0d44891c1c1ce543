import ArgumentParser

/// The operator CLI: local fleet, embedded broker, sandbox, accounts, DLQ, lag, benchmarks.
@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Operate Switchboard: the SMS ⇄ Gorgias Kafka worker fleet.",
        subcommands: [
            DevCommand.self,
            ProduceCommand.self,
            DeadLetterCommand.self,
            LagCommand.self,
            IngressCommand.self,
            AccountsCommand.self,
            ConsentCommand.self,
            ConversationsCommand.self,
            MigrateCommand.self,
            BrokerCommand.self,
            SandboxCommand.self,
            BenchCommand.self,
        ]
    )
}
