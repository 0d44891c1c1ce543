import SwitchboardEvents
import SwitchboardKafka

extension KafkaAdmin {
    /// The topics Switchboard needs for `sources` in `topology`: each source and its retry tiers kept 7 days, its DLQ 30
    /// days (time to review and redrive).
    public static func switchboardTopics(
        topology: RetryTopology, sources: [String] = EventKind.sourceTopics, partitions: Int, replicationFactor: Int = 1
    ) -> [TopicSpec] {
        sources.flatMap { source in
            topology.consumedTopics([source]).map {
                TopicSpec(
                    name: $0, partitions: partitions, replicationFactor: replicationFactor,
                    config: ["retention.ms": "604800000"])
            } + [
                TopicSpec(
                    name: topology.deadLetterTopic(source), partitions: partitions,
                    replicationFactor: replicationFactor, config: ["retention.ms": "2592000000"])
            ]
        }
    }

}
