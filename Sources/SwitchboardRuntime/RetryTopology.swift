import SwitchboardBase
import SwitchboardEvents

/// Names of the retry tiers and dead-letter topic of each source topic:
/// `<topic>.retry.<delay>` (e.g. `sms.inbound.retry.30s`) and `<topic>.dlq`.
public struct RetryTopology: Sendable, Hashable {
    /// What a consumed topic is to its source topic.
    public enum Role: Sendable, Hashable {
        case source
        case retry(tier: Int)
        case deadLetter
    }

    /// Delays of the tiers, shortest first.
    public var tiers: [Duration]

    public static let defaultTiers: [Duration] = [.seconds(30), .seconds(300), .seconds(3600)]

    public init(tiers: [Duration] = RetryTopology.defaultTiers) {
        self.tiers = tiers
    }

    /// Reads `RETRY_TIERS` (e.g. `30s,5m,1h`; empty list allowed: failures then go straight to the DLQ).
    public static func from(_ environment: Environment) throws -> RetryTopology {
        guard let entries = environment.list("RETRY_TIERS") else { return RetryTopology() }
        var tiers: [Duration] = []
        for entry in entries {
            guard let delay = DurationText.parse(entry), delay > .zero else {
                throw ConfigurationError(
                    setting: "RETRY_TIERS", reason: "\"\(entry)\" is not a positive duration like 30s, 5m or 1h")
            }
            tiers.append(delay)
        }
        guard tiers == tiers.sorted() else {
            throw ConfigurationError(setting: "RETRY_TIERS", reason: "tiers must be listed shortest first")
        }
        return RetryTopology(tiers: tiers)
    }

    public func retryTopic(_ source: String, tier: Int) -> String {
        "\(source).retry.\(DurationText.format(tiers[tier]))"
    }

    /// The source topic a retry tier belongs to (`sms.inbound` for `sms.inbound.retry.30s`); any other topic is its
    /// own source. The dispatch path asks once per assigned partition.
    static func sourceTopic(of topic: String) -> String {
        guard let marker = topic.utf8.firstRange(of: ".retry.".utf8) else { return topic }
        return String(Substring(topic.utf8[..<marker.lowerBound]))
    }

    public func deadLetterTopic(_ source: String) -> String {
        "\(source).dlq"
    }

    /// The topics a worker consumes for `sources`: each source and its retry tiers (never the DLQ).
    public func consumedTopics(_ sources: [String]) -> [String] {
        sources.flatMap { source in [source] + tiers.indices.map { retryTopic(source, tier: $0) } }
    }

    /// Every topic of `sources`: source, retry tiers and DLQ.
    public func allTopics(_ sources: [String]) -> [String] {
        sources.flatMap { consumedTopics([$0]) + [deadLetterTopic($0)] }
    }

    /// The source topic and role of `topic`, when it belongs to one of `sources`.
    public func classify(_ topic: String, sources: [String] = EventKind.sourceTopics) -> (source: String, role: Role)? {
        for source in sources {
            if topic == source { return (source, .source) }
            if topic == deadLetterTopic(source) { return (source, .deadLetter) }
            for tier in tiers.indices where topic == retryTopic(source, tier: tier) {
                return (source, .retry(tier: tier))
            }
        }
        return nil
    }

    /// Every consumed or dead-letter topic of `sources`, mapped to its source and role (built once; hot-path lookups).
    public func index(_ sources: [String] = EventKind.sourceTopics) -> [String: (source: String, role: Role)] {
        var index: [String: (source: String, role: Role)] = [:]
        for source in sources {
            index[source] = (source, .source)
            index[deadLetterTopic(source)] = (source, .deadLetter)
            for tier in tiers.indices { index[retryTopic(source, tier: tier)] = (source, .retry(tier: tier)) }
        }
        return index
    }

    /// Where a record from `role` goes next after a retriable failure: the next tier, else the DLQ.
    /// `minimumDelay` skips tiers shorter than a required wait (e.g. a long `Retry-After`). A `deferral` (a spent rate
    /// budget, not a failure) never reaches the DLQ: past the last tier it waits in the last tier again.
    public func nextTopic(source: String, after role: Role, minimumDelay: Duration = .zero, deferral: Bool = false) -> (
        topic: String, delay: Duration?
    ) {
        var tier: Int
        switch role {
        case .source: tier = 0
        case .retry(let current): tier = current + 1
        case .deadLetter: return (deadLetterTopic(source), nil)
        }
        while tier < tiers.count && tiers[tier] < minimumDelay && tier < tiers.count - 1 { tier += 1 }
        if deferral && !tiers.isEmpty { tier = min(tier, tiers.count - 1) }
        guard tier < tiers.count else { return (deadLetterTopic(source), nil) }
        return (retryTopic(source, tier: tier), tiers[tier])
    }
}
