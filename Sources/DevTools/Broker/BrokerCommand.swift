import ArgumentParser
import Logging
import KafkaMock
import SwitchboardBase
import SwitchboardEvents
import SwitchboardObservability
import SwitchboardRuntime
import OperatorKit

/// `switchboard-dev broker`: the embedded Kafka-protocol broker (librdkafka's mock cluster) with every topic.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run an embedded Kafka-protocol broker with every Switchboard topic until SIGTERM.",
        discussion: """
            Prints exactly one line on stdout when ready: KAFKA_BROKERS=<bootstrap list>. Other processes \
            (workers, kcat) connect to it over loopback. Not for production: data lives in memory.
            """
    )

    @Option(help: "Number of mock brokers.")
    var brokers = 3

    @Option(help: "Partitions per topic (sources, retry tiers and DLQs).")
    var partitions = 6

    @Option(help: "Retry tier delays, shortest first.")
    var retryTiers = "30s,5m,1h"

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be 1...16") }
        guard (1...256).contains(partitions) else { throw ValidationError("--partitions must be 1...256") }
    }

    func run() async throws {
        try LoggingSetup.bootstrap(try Environment.load())
        let topology = try RetryTopology.from(Environment(["RETRY_TIERS": retryTiers]))
        let broker = try EmbeddedBroker(brokers: brokers, logger: Logger(label: "switchboard-broker"))
        try broker.createSwitchboardTopics(partitions: partitions, topology: topology)
        StandardOutput.line("KAFKA_BROKERS=\(broker.bootstrapServers)")
        StandardError.line(
            "embedded broker ready: \(brokers) broker(s), \(topology.allTopics(EventKind.sourceTopics).count) topics × \(partitions) partitions; Ctrl-C to stop"
        )
        await Signals.waitForTermination()
        withExtendedLifetime(broker) {}
    }
}
