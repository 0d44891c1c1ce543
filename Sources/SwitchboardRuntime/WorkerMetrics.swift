import Foundation
import Prometheus
import Synchronization
import SwitchboardBase
import SwitchboardKafka
import SwitchboardObservability
import SwitchboardStore

/// The runtime's metrics for one consumer group (every series carries `group`).
///
/// Per-partition series exist only for partitions this member owns; they are removed on revoke
/// (stale lag after a rebalance is a classic complaint, anchors.md §4).
public final class WorkerMetrics: Sendable {
    public let group: String
    public let metrics: LabeledMetrics
    private let inFlight: Gauge
    /// Per-record series, cached by a cheap key (the generic cache builds a string key per call).
    private let outcomeSeries = Mutex<[OutcomeKey: (records: Counter, duration: DurationHistogram)]>([:])
    private let ageSeries = Mutex<[String: DurationHistogram]>([:])
    /// Which accounts get a label of their own on the per-account series.
    public let accountLabels: AccountLabels
    private let accountSeries = Mutex<[AccountKey: (records: Counter, age: DurationHistogram)]>([:])

    private struct AccountKey: Hashable {
        var account: String
        var outcome: RecordOutcome
    }
    /// Accounts with a budget-backlog series now (removed once they have none).
    private let backlogAccounts = Mutex<Set<String>>([])
    /// Per account label, the services whose credentials were refused and not accepted since.
    private let refusedCredentials = Mutex<[String: Set<ProcessingFailure.Dependency>]>([:])

    /// How many accounts get their own budget-backlog series; the rest are summed as `other`.
    static let backlogAccountLimit = 20

    private struct OutcomeKey: Hashable {
        var topic: String
        var outcome: RecordOutcome
    }

    public init(group: String, metrics: LabeledMetrics, accountLabels: AccountLabels = AccountLabels(limit: 50)) {
        self.group = group
        self.metrics = metrics
        self.accountLabels = accountLabels
        self.inFlight = metrics.gauge(MetricCatalog.inFlight, [("group", group)])
        metrics.gauge(MetricCatalog.up, [("group", group)]).set(Int64(1))
    }

    private func labels(_ extra: [(String, String)] = []) -> [(String, String)] {
        [("group", group)] + extra
    }

    private func partitionLabels(_ topicPartition: TopicPartition) -> [(String, String)] {
        labels([("topic", topicPartition.topic), ("partition", String(topicPartition.partition))])
    }

    /// One record of `account` finished with `outcome`: its per-account series (see ``AccountLabels``).
    public func accountRecordFinished(account: String, outcome: RecordOutcome, eventTime: Date?) {
        let key = AccountKey(account: accountLabels.label(account), outcome: outcome)
        let series = accountSeries.withLock { cache in
            if let cached = cache[key] { return cached }
            let outcomeLabels = labels([("account", key.account), ("outcome", outcome.rawValue)])
            let created = (
                metrics.counter(MetricCatalog.accountRecords, outcomeLabels),
                metrics.histogram(MetricCatalog.accountEventAge, labels([("account", key.account)]))
            )
            cache[key] = created
            return created
        }
        series.records.increment()
        if let eventTime, outcome == .processed {
            series.age.record(.milliseconds(Int64(max(0, Date().timeIntervalSince(eventTime)) * 1000)))
        }
    }

    /// One record finished with `outcome` after `duration` of handling.
    public func recordFinished(topic: String, outcome: RecordOutcome, duration: Duration, eventTime: Date?) {
        let key = OutcomeKey(topic: topic, outcome: outcome)
        let series = outcomeSeries.withLock { cache in
            if let cached = cache[key] { return cached }
            let outcomeLabels = labels([("topic", topic), ("outcome", outcome.rawValue)])
            let created = (
                metrics.counter(MetricCatalog.records, outcomeLabels),
                metrics.histogram(MetricCatalog.handlerDuration, outcomeLabels)
            )
            cache[key] = created
            return created
        }
        series.records.increment()
        series.duration.record(duration)
        if let eventTime, outcome == .processed {
            let age = max(0, Date().timeIntervalSince(eventTime))
            let histogram = ageSeries.withLock { cache in
                if let cached = cache[topic] { return cached }
                let created = metrics.histogram(MetricCatalog.eventAge, labels([("topic", topic)]))
                cache[topic] = created
                return created
            }
            histogram.record(.milliseconds(Int64(age * 1000)))
        }
    }

    public func inPlaceRetry(topic: String, errorClass: String) {
        metrics.counter(MetricCatalog.inPlaceRetries, labels([("topic", topic), ("error_class", errorClass)]))
            .increment()
    }

    public func deadLettered(sourceTopic: String, errorClass: String) {
        metrics.counter(MetricCatalog.deadLetters, labels([("topic", sourceTopic), ("error_class", errorClass)]))
            .increment()
    }

    /// A record gave its slot back because its merchant's budget is spent.
    /// Sets `switchboard_account_health{check="<service>_credentials"}` for `account`: 0 while the provider refuses its
    /// credentials, 1 once accepted again.
    public func setCredentialsHealth(account: String, service: ProcessingFailure.Dependency, accepted: Bool) {
        let label = accountLabels.label(account)
        let refused = refusedCredentials.withLock { refused in
            if accepted { refused[label]?.remove(service) } else { refused[label, default: []].insert(service) }
            let now = refused[label] ?? []
            if now.isEmpty { refused[label] = nil }  // so an empty map means nothing is refused
            return now
        }
        metrics.gauge(
            MetricCatalog.accountHealth, labels([("account", label), ("check", service.credentialsCheck)])
        ).record(refused.contains(service) ? 0.0 : 1.0)
    }

    /// A record of `account` succeeded: every credential it had refused works again. Called for every processed
    /// record, so it returns at once while no account's credentials are refused.
    public func credentialsWork(account: String) {
        guard !refusedCredentials.withLock({ $0.isEmpty }) else { return }
        let label = accountLabels.label(account)
        let refused = refusedCredentials.withLock { $0[label] ?? [] }
        for service in refused { setCredentialsHealth(account: account, service: service, accepted: true) }
    }

    public func throttled(topic: String) {
        metrics.counter(MetricCatalog.throttled, labels([("topic", topic)])).increment()
    }

    /// Sets the records waiting for each merchant's budget (the busiest ``backlogAccountLimit`` by name, the rest as
    /// `other`) and the age of each one's oldest; accounts that no longer wait lose their series.
    public func setBudgetBacklog(_ waiting: [(account: String, records: Int, oldest: Date?)], now: Date = Date()) {
        let busiest = waiting.sorted { $0.records > $1.records }
        var series: [String: (records: Int, oldest: Double)] = [:]
        for (index, entry) in busiest.enumerated() {
            let account = index < Self.backlogAccountLimit ? entry.account : AccountLabels.other
            let age = entry.oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0
            let current = series[account] ?? (0, 0)
            series[account] = (current.records + entry.records, max(current.oldest, age))
        }
        let gone = backlogAccounts.withLock { accounts in
            defer { accounts = Set(series.keys) }
            return accounts.subtracting(series.keys)
        }
        for account in gone {
            metrics.removeGauge(MetricCatalog.budgetBacklog, labels([("account", account)]))
            metrics.removeGauge(MetricCatalog.budgetBacklogOldest, labels([("account", account)]))
        }
        for (account, value) in series {
            metrics.gauge(MetricCatalog.budgetBacklog, labels([("account", account)])).set(Int64(value.records))
            metrics.gauge(MetricCatalog.budgetBacklogOldest, labels([("account", account)])).set(value.oldest)
        }
    }

    public func setInFlight(_ count: Int) {
        inFlight.set(Int64(count))
    }

    public func rebalanced(assignedCount: Int) {
        metrics.counter(MetricCatalog.rebalances, labels()).increment()
        metrics.gauge(MetricCatalog.assignedPartitions, labels()).set(Int64(assignedCount))
    }

    /// The coordinator refused an offset commit made at `stage` (`revoke` or `shutdown`).
    public func commitRefused(at stage: String) {
        metrics.counter(MetricCatalog.refusedCommits, labels([("stage", stage)])).increment()
    }

    public func setBuffered(_ topicPartition: TopicPartition, _ count: Int) {
        metrics.gauge(MetricCatalog.buffered, partitionLabels(topicPartition)).set(Int64(count))
    }

    public func setLag(_ topicPartition: TopicPartition, records: Int64, seconds: Double) {
        metrics.gauge(MetricCatalog.consumerLag, partitionLabels(topicPartition)).set(records)
        metrics.gauge(MetricCatalog.consumerLagSeconds, partitionLabels(topicPartition)).set(seconds)
    }

    public func setGroupLag(_ records: Int64) {
        metrics.gauge(MetricCatalog.groupLag, labels()).set(records)
    }

    /// Drops every per-partition series of a partition this member gave up.
    public func removePartition(_ topicPartition: TopicPartition) {
        for spec in [MetricCatalog.consumerLag, MetricCatalog.consumerLagSeconds, MetricCatalog.buffered] {
            metrics.removeGauge(spec, partitionLabels(topicPartition))
        }
    }

    public func setCircuit(_ dependency: ProcessingFailure.Dependency, open: Bool) {
        metrics.gauge(MetricCatalog.circuitOpen, labels([("dependency", dependency.rawValue)])).set(Int64(open ? 1 : 0))
    }

    public func setPollLoopAge(_ age: Duration) {
        metrics.gauge(MetricCatalog.pollLoopAge, labels()).set(age.seconds)
    }

    public func setDeadLetterDepth(topic: String, records: Int64) {
        metrics.gauge(MetricCatalog.dlqDepth, labels([("topic", topic)])).set(records)
    }
}
