import SwitchboardBase
import SwitchboardEvents

/// The three workers of the fleet in one place, so the workers, the CLI (`lag`, `dlq`, `dev`) and the deployment
/// files' tests agree on executables, consumer groups, topics and metrics ports.
public struct FleetMember: Sendable, Hashable {
    /// The executable (and container command).
    public var executable: String
    /// The service name in logs and metrics (`worker` label).
    public var name: String
    public var group: String
    /// Source topics; the runtime adds their retry tiers.
    public var topics: [String]
    public var defaultMetricsPort: Int
    /// What handling each source topic may call, where that is less than everything: a circuit opened for a
    /// dependency pauses only the topics that use it.
    public var dependencies: [String: Set<ProcessingFailure.Dependency>]

    public init(
        executable: String, name: String, group: String, topics: [String], defaultMetricsPort: Int,
        dependencies: [String: Set<ProcessingFailure.Dependency>] = [:]
    ) {
        self.executable = executable
        self.name = name
        self.group = group
        self.topics = topics
        self.defaultMetricsPort = defaultMetricsPort
        self.dependencies = dependencies
    }

    /// The dependencies `sourceTopic`'s handling may call.
    public func dependencies(of sourceTopic: String) -> Set<ProcessingFailure.Dependency> {
        dependencies[sourceTopic] ?? Set(ProcessingFailure.Dependency.allCases)
    }
}

public enum FleetRoster {
    /// Consent keywords on `sms.consent` need the store and the SMS provider, never Gorgias.
    public static let inbound = FleetMember(
        executable: "InboundWorker", name: "inbound-worker", group: "switchboard-inbound",
        topics: EventKind.inboundText.topics, defaultMetricsPort: 9401,
        dependencies: [EventKind.consentTopic: [.store, .sms, .kafka]]
    )
    public static let outbound = FleetMember(
        executable: "OutboundWorker", name: "outbound-worker", group: "switchboard-outbound",
        topics: [EventKind.helpdeskMessage.topic], defaultMetricsPort: 9402
    )
    public static let status = FleetMember(
        executable: "StatusWorker", name: "status-worker", group: "switchboard-status",
        topics: [EventKind.ticketStatus.topic, EventKind.deliveryStatus.topic, EventKind.subscription.topic],
        defaultMetricsPort: 9403
    )
    public static let all = [inbound, outbound, status]

    /// The consumer group that marks dead-lettered records as reviewed (`switchboard dlq redrive|ack` commit it);
    /// a DLQ's depth is what lies after its committed offset.
    public static let deadLetterReviewGroup = "switchboard-dlq-review"

    /// Every fleet group with the topics it consumes, and the DLQ review group with the DLQs: what `switchboard lag`
    /// and the console report.
    public static func lagPlan(_ topology: RetryTopology) -> [(group: String, topics: [String])] {
        all.map { ($0.group, topology.consumedTopics($0.topics)) }
            + [(deadLetterReviewGroup, EventKind.sourceTopics.map(topology.deadLetterTopic))]
    }

    /// The member consuming `sourceTopic`.
    public static func member(consuming sourceTopic: String) -> FleetMember? {
        all.first { $0.topics.contains(sourceTopic) }
    }
}
