import ArgumentParser
import Foundation
import Shared

/// What the console shows, read the way the CLI commands read it (`lag`, `accounts list`, `dlq list`, `trace`).
struct ConsoleSources: Sendable {
    let store: Store
    let reader: KafkaOffsetsReader
    let topology: RetryTopology

    /// Every fleet group's partitions with their lag, as `switchboard lag`.
    func lag() async throws -> [PartitionLag] {
        let (reader, plan) = (self.reader, LagCommand.fleetPlan(topology))
        return try await BlockingCall.run {
            try plan.flatMap { entry in try reader.lag(group: entry.group, topics: entry.topics) }
        }
    }

    /// Every account with its health, as `accounts list`.
    func merchants() async throws -> [AccountSummary] {
        let (accounts, health) = (try await store.accounts(), try await store.accountHealth())
        return accounts.map { AccountSummary($0, health: health[$0.id] ?? []) }
    }

    /// Dead letters awaiting review, filtered as `dlq list --topic … --error-class …` would.
    func deadLetters(topic: String?, errorClass: String?, limit: Int = 200) async throws -> [DeadLetter] {
        let arguments = (topic.map { ["--topic", $0] } ?? []) + (errorClass.map { ["--error-class", $0] } ?? [])
        let filter = try DeadLetterFilter.parse(arguments)
        let scan = DeadLetterScan(reader: reader, filter: filter, topics: try filter.deadLetterTopics(topology))
        return try await scan.slices(limit: limit).flatMap(\.letters).filter(filter.matches)
    }

    /// A conversation's trace, phone numbers masked, as `switchboard trace --account A --phone P`.
    func trace(account: String, phone: String) async throws -> [TraceEntry]? {
        guard PhoneNumber.isE164(phone), try await store.account(id: account) != nil else { return nil }
        return try await ConversationTrace(
            account: account, phone: phone, store: store, reader: reader, topology: topology, scanLimit: 50_000
        ).entries().map(\.masked)
    }
}
