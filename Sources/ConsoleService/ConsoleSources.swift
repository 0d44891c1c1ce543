import ArgumentParser
import Foundation
import SwitchboardBase
import SwitchboardDomain
import SwitchboardKafka
import SwitchboardRuntime
import SwitchboardStore
import OperatorKit

/// What the console shows and does, read and done the way the CLI commands do it (`lag`, `accounts list`,
/// `dlq list|show|redrive`, `trace`).
struct ConsoleSources: Sendable {
    let store: Store
    let reader: KafkaOffsetsReader
    /// Reads as the DLQ review group, whose committed offsets a redrive advances.
    let reviewReader: KafkaOffsetsReader
    let settings: KafkaSettings
    let topology: RetryTopology

    /// A partition's lag in records and, when it lags, the age of its oldest unconsumed record.
    struct FleetPartition: Sendable {
        var lag: PartitionLag
        var oldestAge: Duration?
    }

    /// Every fleet group's state and members, or why the brokers could not describe it.
    func groups() async -> [(group: String, description: Result<GroupDescription?, any Error>)] {
        let (reader, plan) = (self.reader, FleetRoster.lagPlan(topology))
        return await BlockingCall.run {
            plan.map { entry in
                (entry.group, Result { try reader.describe(group: entry.group) })
            }
        }
    }

    /// Every fleet group's partitions with their lag, as `switchboard lag`, and how long the oldest waits.
    func lag() async throws -> [FleetPartition] {
        let (reader, plan) = (self.reader, FleetRoster.lagPlan(topology))
        return try await BlockingCall.run {
            try plan.flatMap { entry in try reader.lag(group: entry.group, topics: entry.topics) }.map { partition in
                guard partition.lag > 0,
                    let oldest = try reader.records(
                        partition.topicPartition, from: partition.start, until: partition.start + 1
                    ).first?.timestamp
                else { return FleetPartition(lag: partition, oldestAge: nil) }
                return FleetPartition(lag: partition, oldestAge: .seconds(max(0, Date().timeIntervalSince(oldest))))
            }
        }
    }

    /// Every account with its health, as `accounts list`.
    func merchants() async throws -> [AccountSummary] {
        let (accounts, health) = (try await store.accounts(), try await store.accountHealth())
        return accounts.map { AccountSummary($0, health: health[$0.id] ?? []) }
    }

    /// Dead letters awaiting review that `query` selects, as `dlq list` with the same options.
    func deadLetters(_ query: DeadLetterQuery, limit: Int = 200) async throws -> [DeadLetter] {
        let filter = try query.filter()
        let scan = DeadLetterScan(reader: reader, filter: filter, topics: try filter.deadLetterTopics(topology))
        return try await scan.slices(limit: limit).flatMap(\.letters).filter(filter.matches)
    }

    /// One DLQ record by its `topic:partition:offset`, as `dlq show`.
    func deadLetter(at location: String) async throws -> DeadLetter? {
        guard let location = DeadLetter.parseLocation(location) else { return nil }
        return try await DeadLetterScan.letter(at: location, reader: reader)
    }

    /// Redrives what `query` selects at `rate` per second (or only says what it would, `dryRun`), as `dlq redrive`.
    func redrive(_ query: DeadLetterQuery, rate: Double, dryRun: Bool) async throws -> DeadLetterRedrive.Outcome {
        let filter = try query.filter()
        let scan = DeadLetterScan(reader: reviewReader, filter: filter, topics: try filter.deadLetterTopics(topology))
        let producer =
            dryRun
            ? nil
            : try KafkaProducer(
                settings: settings, clientId: "switchboard-console-redrive", logger: CLIEnvironment.logger)
        do {
            let outcome = try await DeadLetterRedrive(
                scan: scan, rate: rate, maxRedrives: DeadLetterRedrive.defaultMaxRedrives
            ).run(producer: producer)
            await producer?.shutdown()
            return outcome
        } catch {
            await producer?.shutdown()
            throw error
        }
    }

    /// A conversation's trace, phone numbers masked, as `switchboard trace --account A --phone P`.
    func trace(account: String, phone: String) async throws -> [TraceEntry]? {
        guard PhoneNumber.isE164(phone), try await store.account(id: account) != nil else { return nil }
        return try await ConversationTrace(
            account: account, phone: phone, store: store, reader: reader, topology: topology, scanLimit: 50_000
        ).entries().map(\.masked)
    }
}

/// The DLQ filter a console form sends: the options `dlq list` takes, by the same names.
struct DeadLetterQuery: Sendable {
    var topic: String?
    var since: String?
    var errorClass: String?
    var account: String?

    /// Reads the form's fields; empty ones select everything.
    init(_ fields: [String: String]) {
        func value(_ name: String) -> String? { fields[name].flatMap { $0.isEmpty ? nil : $0 } }
        topic = value("topic")
        since = value("since")
        errorClass = value("error_class")
        account = value("account")
    }

    /// The filter, checked as the CLI checks its options (an unknown topic or a bad time is a `ValidationError`).
    func filter() throws -> DeadLetterFilter {
        // Set field by field, never parsed as a command line: a value like `--include-reviewed` is just a bad value.
        let filter = DeadLetterFilter(
            topics: topic.map { [$0] } ?? [], since: since, errorClass: errorClass, account: account)
        _ = try since.map { try DeadLetterFilter.time($0, "since") }
        return filter
    }

    /// The fields by form name, to carry the filter from the list to the redrive form.
    var fields: [(name: String, value: String)] {
        [("topic", topic), ("since", since), ("error_class", errorClass), ("account", account)].compactMap {
            name, value in
            value.map { (name, $0) }
        }
    }
}
