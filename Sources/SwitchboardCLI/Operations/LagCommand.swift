import ArgumentParser
import Foundation
import SwitchboardBase
import SwitchboardEvents
import SwitchboardRuntime
import OperatorKit
import SwitchboardKafka

/// `switchboard lag`: per group, topic and partition, from committed offsets and watermarks. It never joins a group,
/// so it works while the workers are down, and it counts lag the way the workers' `/metrics` do.
struct LagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag",
        abstract: "Consumer lag per group, topic and partition (works while workers are down).",
        discussion: """
            Lag is the end offset minus the group's committed offset (or the first retained offset when it never \
            committed), as switchboard_consumer_lag_records reports. Default: the three worker groups over their \
            source and retry topics, and the DLQ review group over the DLQs. Exit code 0 even with lag; use --json \
            and your own threshold in scripts.
            """
    )

    @Option(name: .customLong("group"), help: "Only this group (repeatable).") var groups: [String] = []
    @Option(help: "Topics for a group outside the fleet (comma-separated).") var topics: String?
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var kafka: KafkaOptions

    struct Row: Codable {
        var group: String
        var topic: String
        var partition: Int32
        var committed: Int64?
        var low: Int64
        var high: Int64
        var lag: Int64
    }

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let topology = try kafka.topology(environment)
        var plan = FleetRoster.lagPlan(topology)
        if !groups.isEmpty {
            let explicit = topics.map { $0.split(separator: ",").map(String.init) }
            plan = try groups.map { group in
                if let explicit { return (group, explicit) }
                guard let known = plan.first(where: { $0.group == group }) else {
                    throw ValidationError("--group \(group) is not a Switchboard group; give its --topics")
                }
                return known
            }
        }
        let reader = try kafka.reader(environment)
        let requested = plan
        let rows = try await BlockingCall.run {
            try requested.flatMap { entry in try reader.lag(group: entry.group, topics: entry.topics) }
        }.map {
            Row(
                group: $0.group, topic: $0.topicPartition.topic, partition: $0.topicPartition.partition,
                committed: $0.committed, low: $0.low, high: $0.high, lag: $0.lag)
        }
        if json { return try JSONOutput.print(rows) }
        StandardOutput.line(
            TextTable.render(
                ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"],
                rows.map {
                    [
                        $0.group, $0.topic, String($0.partition), $0.committed.map(String.init) ?? "-", String($0.high),
                        String($0.lag),
                    ]
                }
            ))
        let totals = Dictionary(grouping: rows, by: \.group).mapValues { $0.reduce(0) { $0 + $1.lag } }
        StandardOutput.line("\n" + plan.map { "\($0.group): \(totals[$0.group] ?? 0) behind" }.joined(separator: "\n"))
    }
}
