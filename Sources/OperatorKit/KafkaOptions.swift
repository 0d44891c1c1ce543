import ArgumentParser
import Logging
import SwitchboardBase
import SwitchboardKafka
import SwitchboardRuntime

/// Options every Kafka-using command shares. `KAFKA_<PROPERTY>` variables pass through to librdkafka as for workers.
public struct KafkaOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(help: "Bootstrap brokers host:port[,…] (default: $KAFKA_BROKERS).") public var brokers: String?
    @Option(help: "Retry tier delays, shortest first (default: $RETRY_TIERS, else 30s,5m,1h).") public var retryTiers:
        String?

    public func settings(_ environment: Environment) throws -> KafkaSettings {
        var values = environment.values
        if let brokers { values["KAFKA_BROKERS"] = brokers }
        return try KafkaSettings.from(Environment(values))
    }

    public func topology(_ environment: Environment) throws -> RetryTopology {
        var values = environment.values
        if let retryTiers { values["RETRY_TIERS"] = retryTiers }
        return try RetryTopology.from(Environment(values))
    }

    /// A reader acting for `group` (its commits are that group's).
    public func reader(_ environment: Environment, group: String = "switchboard-cli") throws -> KafkaOffsetsReader {
        try KafkaOffsetsReader(settings: try settings(environment), groupId: group, logger: CLIEnvironment.logger)
    }
}
