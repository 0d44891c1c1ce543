import ArgumentParser
import Foundation
import SwitchboardBase
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime

/// Which dead letters a `dlq` command or the console works on: plain values, set by `DeadLetterOptions` from a
/// command line or field by field from a console form (never parsed as a command line).
public struct DeadLetterFilter: Sendable {
    /// Source topics (e.g. `sms.inbound`) or their DLQs; empty selects every DLQ.
    public var topics: [String] = []
    /// Only records dead-lettered at or after this time (RFC 3339, or an age like `2h`).
    public var since: String?
    /// Only records dead-lettered before this time.
    public var until: String?
    /// Only this error class, or a prefix ending in `.`.
    public var errorClass: String?
    /// Only records of this account (their key starts with `<account>:`).
    public var account: String?
    /// Include records already redriven or acknowledged (before the review group's offset).
    public var includeReviewed = false

    public init(
        topics: [String] = [], since: String? = nil, until: String? = nil, errorClass: String? = nil,
        account: String? = nil, includeReviewed: Bool = false
    ) {
        (self.topics, self.since, self.until) = (topics, since, until)
        (self.errorClass, self.account, self.includeReviewed) = (errorClass, account, includeReviewed)
    }

    /// The DLQ topics selected.
    public func deadLetterTopics(_ topology: RetryTopology) throws -> [String] {
        guard !topics.isEmpty else { return EventKind.sourceTopics.map(topology.deadLetterTopic) }
        return try topics.map { topic in
            let source = topic.hasSuffix(".dlq") ? String(topic.dropLast(4)) : topic
            guard EventKind.forTopic(source) != nil else {
                throw ValidationError(
                    "--topic \(topic) is not a Switchboard topic (\(EventKind.sourceTopics.joined(separator: ", ")))")
            }
            return topology.deadLetterTopic(source)
        }
    }

    public func matches(_ letter: DeadLetter) throws -> Bool {
        if let account, letter.account != account { return false }
        if let errorClass {
            let matched =
                errorClass.hasSuffix(".") ? letter.errorClass.hasPrefix(errorClass) : letter.errorClass == errorClass
            guard matched else { return false }
        }
        let at = letter.failedAt ?? .distantPast
        if let since, at < (try Self.time(since, "--since")) { return false }
        if let until, at >= (try Self.time(until, "--until")) { return false }
        return true
    }

    /// An RFC 3339 time, or an age (`90s`, `30m`, `2h`, `7d`) counted back from now.
    public static func time(_ text: String, _ option: String) throws -> Date {
        if let date = RFC3339.parse(text) { return date }
        if text.hasSuffix("d"), let days = Double(text.dropLast()) { return Date().addingTimeInterval(-days * 86400) }
        if let age = DurationText.parse(text) { return Date().addingTimeInterval(-age.seconds) }
        throw ValidationError("\(option) \(text) is neither an RFC 3339 time nor an age like 2h")
    }
}

/// Walks the selected DLQ partitions from the review group's offset (or the start) to their current end.
public struct DeadLetterScan {
    public let reader: KafkaOffsetsReader
    public let filter: DeadLetterFilter
    public let topics: [String]

    /// One partition's records from where review stands, with the offset review stood at.
    public struct Slice: Sendable {
        public var partition: PartitionLag
        public var letters: [DeadLetter]
    }

    /// Reads at most `limit` records per partition.
    public func slices(limit: Int = 10_000) async throws -> [Slice] {
        let (reader, topics, includeReviewed) = (self.reader, self.topics, filter.includeReviewed)
        return try await BlockingCall.run {
            try reader.lag(group: FleetRoster.deadLetterReviewGroup, topics: topics).map { partition in
                let from = includeReviewed ? partition.low : partition.start
                let records = try reader.records(
                    partition.topicPartition, from: from, until: partition.high, limit: limit)
                return Slice(partition: partition, letters: records.map(DeadLetter.init))
            }
        }
    }

    /// Marks records reviewed: commits, per partition, the offset after the longest run of handled records from
    /// where review stood (a record skipped by the filter stops the run, so it stays counted in the DLQ depth).
    public func markReviewed(_ handled: [Slice: Set<Int64>]) async throws {
        var offsets: [(TopicPartition, Int64)] = []
        for (slice, done) in handled {
            var next = slice.partition.start
            for letter in slice.letters where letter.record.offset >= next {
                guard done.contains(letter.record.offset) else { break }
                next = letter.record.offset + 1
            }
            if next > slice.partition.start { offsets.append((slice.partition.topicPartition, next)) }
        }
        let reader = self.reader
        let commits = offsets
        try await BlockingCall.run { try reader.commit(commits) }
    }

    public init(reader: KafkaOffsetsReader, filter: DeadLetterFilter, topics: [String]) {
        self.reader = reader
        self.filter = filter
        self.topics = topics
    }
}

extension DeadLetterScan {
    /// The dead letter at `location` (from ``DeadLetter/parseLocation(_:)``); nil when nothing is there.
    public static func letter(at location: (topicPartition: TopicPartition, offset: Int64), reader: KafkaOffsetsReader)
        async throws -> DeadLetter?
    {
        try await BlockingCall.run {
            try reader.records(location.topicPartition, from: location.offset, until: location.offset + 1).first
                .map(DeadLetter.init)
        }
    }
}

extension DeadLetterScan.Slice: Hashable {
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.partition == rhs.partition }
    public func hash(into hasher: inout Hasher) { hasher.combine(partition) }
}
