import ArgumentParser
import Foundation
import SwitchboardBase
import SwitchboardKafka
import OperatorKit
import SwitchboardRuntime

/// `switchboard topics create`: every Switchboard topic through Kafka's admin API, on any broker that implements
/// CreateTopics (Apache Kafka, Tansu; librdkafka's mock cluster creates its own in `switchboard-dev broker`).
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Manage Switchboard's Kafka topics.",
        subcommands: [CreateTopicsCommand.self]
    )
}

struct CreateTopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create every source topic, retry tier and DLQ (existing ones are left as they are).",
        discussion:
            "Sources and retry tiers keep 7 days, DLQs 30 days (time to review and redrive). Compose's topic-init runs this."
    )

    @Option(help: "Partitions of every topic (the replica ceiling of each worker type).") var partitions = 6
    @Option(help: "Replication factor.") var replication = 1
    @Option(help: "Seconds to wait for the broker's answer.") var timeout = 30
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var kafka: KafkaOptions

    struct Outcome: Codable {
        var topic: String
        var result: String
    }

    func run() async throws {
        guard partitions > 0 else { throw ValidationError("--partitions must be at least 1") }
        guard replication > 0 else { throw ValidationError("--replication must be at least 1") }
        let environment = try CLIEnvironment.load()
        let settings = try kafka.settings(environment)
        let specs = KafkaAdmin.switchboardTopics(
            topology: try kafka.topology(environment), partitions: partitions, replicationFactor: replication)
        let wait = Duration.seconds(timeout)
        let outcomes: [String: String?]
        do {
            outcomes = try await BlockingCall.run {
                try KafkaAdmin(settings: settings, logger: CLIEnvironment.logger).createTopics(specs, timeout: wait)
            }
        } catch let error as KafkaError {
            throw CLIError.failed(
                "the broker created no topics (\(error.reason)); a broker without CreateTopics, such as librdkafka's mock cluster, "
                    + "creates them itself (`switchboard-dev broker`)"
            )
        }
        let rows = specs.map { Outcome(topic: $0.name, result: outcomes[$0.name].map { $0 ?? "ok" } ?? "no answer") }
        if json {
            try JSONOutput.print(rows)
        } else {
            StandardOutput.line(TextTable.render(["TOPIC", "RESULT"], rows.map { [$0.topic, $0.result] }))
        }
        if rows.contains(where: { $0.result != "ok" }) { throw ExitCode(1) }
    }
}
