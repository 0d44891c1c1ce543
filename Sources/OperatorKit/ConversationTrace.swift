import Foundation
import SwitchboardBase
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import SwitchboardStore
import SwitchboardDomain

/// Everything Switchboard did for one conversation (an account and a customer's phone), gathered from the store and
/// from the topics, in time order (``TraceEntry``).
///
/// The topics are read, by assignment and without a consumer group, from each partition's newest `scanLimit`
/// records: the events of the conversation's keys (the phone, its tickets, its SMS ids) in the source topics, their
/// retry tiers and DLQs. Each event's outcome comes from the processed-event ledger of the group that consumes it.
public struct ConversationTrace {
    public let account: String
    public let phone: String
    public let store: Store
    public let reader: KafkaOffsetsReader?
    public let topology: RetryTopology
    public let scanLimit: Int

    public func entries() async throws -> [TraceEntry] {
        var entries: [TraceEntry] = []
        let conversation = try await store.conversation(accountId: account, phone: phone)
        let tickets = try await conversation.asyncMap { try await store.tickets(conversationId: $0.id) } ?? []
        if let conversation {
            entries.append(
                TraceEntry(
                    at: conversation.createdAt, kind: "conversation",
                    what:
                        "conversation \(conversation.id) with \(phone) opened\(conversation.customerId.map { ", Gorgias customer \($0)" } ?? "")",
                    reference: nil))
        }
        for ticket in tickets {
            for change in try await store.ticketHistory(accountId: account, ticketId: ticket) {
                let until = change.snoozedUntil.map { " until \(RFC3339.format($0))" } ?? ""
                entries.append(
                    TraceEntry(
                        at: change.at, kind: "ticket", what: "ticket \(ticket) \(change.status.rawValue)\(until)",
                        reference: "ticket \(ticket)"))
            }
        }
        let messages = try await store.outboundMessages(accountId: account, phone: phone, ticketIds: tickets)
        for message in messages {
            // The provider's error code with its message, or why a reply was blocked.
            let reason =
                message.errorCode.map { "error \($0)" + (message.errorMessage.map { ": \($0)" } ?? "") }
                ?? (message.state == .blocked ? message.errorMessage : nil)
            entries.append(
                TraceEntry(
                    at: message.stateAt ?? message.updatedAt, kind: "sms",
                    what:
                        "reply \(message.messageId) on ticket \(message.ticketId): SMS \(message.state.rawValue)\(reason.map { " (\($0))" } ?? "")",
                    reference: message.providerSid ?? message.id))
        }
        for record in try await store.consentHistory(accountId: account, phone: phone) {
            let keyword = record.keyword.map { " by \"\($0)\"" } ?? ""
            entries.append(
                TraceEntry(
                    at: record.at, kind: "consent",
                    what: "consent of \(phone) \(record.state.rawValue)\(keyword) (\(record.source))",
                    reference: record.eventId))
        }
        for followUp in try await store.followUps(accountId: account)
        where followUp.phone == phone || followUp.ticketId.map(tickets.contains) == true {
            let state = followUp.outcome.map { "\($0.rawValue)" } ?? "pending (attempt \(followUp.attempts))"
            entries.append(
                TraceEntry(
                    at: followUp.completedAt ?? followUp.createdAt, kind: "note",
                    what:
                        "helpdesk note\(followUp.closeTicket ? " and ticket close" : "")\(followUp.ticketId.map { " on ticket \($0)" } ?? ", waiting for a ticket"): \(state)",
                    reference: followUp.key))
        }
        let keys = Set(
            ["\(account):\(phone)"] + tickets.map { "\(account):\($0)" }
                + messages.compactMap(\.providerSid).map { "\(account):\($0)" })
        let events = try await recordEntries(keys: keys)
        entries += events.entries
        for effect in try await store.effects(accountId: account, keys: events.effectKeys) {
            entries.append(
                TraceEntry(
                    at: effect.startedAt, kind: "effect",
                    what: "effect \(effect.key) \(effect.state.rawValue)\(effect.reference.map { " → \($0)" } ?? "")",
                    reference: effect.reference))
        }
        return entries.sorted { ($0.at ?? .distantPast) < ($1.at ?? .distantPast) }
    }

    /// The records of `keys` in every source topic, retry tier and DLQ, with their events' outcomes; and the effect
    /// keys their events name (`import:<message sid>`).
    private func recordEntries(keys: Set<String>) async throws -> (entries: [TraceEntry], effectKeys: [String]) {
        guard let reader else { return ([], []) }
        let topics = EventKind.sourceTopics.flatMap { source in
            [source] + topology.tiers.indices.map { topology.retryTopic(source, tier: $0) } + [
                topology.deadLetterTopic(source)
            ]
        }
        let records = try await Self.newestRecords(of: topics, reader: reader, scanLimit: scanLimit) {
            $0.keyString.map(keys.contains) == true
        }
        let decoder = EventDecoder()
        var entries: [TraceEntry] = []
        var effectKeys: [String] = []
        for record in records {
            let location = "\(record.topic):\(record.partition):\(record.offset)"
            guard let (source, role) = Self.role(of: record.topic, topology: topology) else { continue }
            let event = try? decoder.decode(record, sourceTopic: source).get()
            let name = event.map { "\($0.type) \($0.id)" } ?? "an undecodable record"
            if let sid = event?.data["messageSid"]?.stringValue, event?.kind == .inboundText {
                effectKeys.append("import:\(sid)")
            }
            switch role {
            case .source:
                var outcome = "not handled yet"
                if let event, let group = FleetRoster.member(consuming: source)?.group,
                    let entry = try await store.lookup(group: group, eventId: event.id)
                {
                    outcome = "\(entry.outcome.rawValue) at \(RFC3339.format(entry.recordedAt))"
                }
                entries.append(
                    TraceEntry(
                        at: event?.time ?? record.timestamp, kind: "event", what: "\(name) on \(source): \(outcome)",
                        reference: location))
            case .retry:
                let attempts = record.header(FailureHeaders.attempts) ?? "0"
                let errorClass = record.header(FailureHeaders.errorClass) ?? "-"
                let due = FailureHeaders.due(record).map { ", due \(RFC3339.format($0))" } ?? ""
                entries.append(
                    TraceEntry(
                        at: record.timestamp, kind: "retry",
                        what: "\(name) moved to \(record.topic) after \(attempts) attempt(s): \(errorClass)\(due)",
                        reference: location))
            case .deadLetter:
                let letter = DeadLetter(record)
                entries.append(
                    TraceEntry(
                        at: letter.failedAt ?? record.timestamp, kind: "dead-letter",
                        what:
                            "\(name) dead-lettered (\(letter.kind?.rawValue ?? "-"), \(letter.errorClass)): \(letter.reason)",
                        reference: location))
            }
        }
        return (entries, effectKeys)
    }

    /// The records `matching` among the newest `scanLimit` of each partition of `topics` (absent topics skipped).
    public static func newestRecords(
        of topics: [String], reader: KafkaOffsetsReader, scanLimit: Int,
        matching: @escaping @Sendable (KafkaRecord) -> Bool
    ) async throws -> [KafkaRecord] {
        try await BlockingCall.run {
            let existing = try reader.topics()
            var found: [KafkaRecord] = []
            for topic in topics {
                for partition in 0..<Int32(existing[topic] ?? 0) {
                    let topicPartition = TopicPartition(topic, partition)
                    let (low, high) = try reader.watermarks(topicPartition)
                    found += try reader.records(topicPartition, from: max(low, high - Int64(scanLimit)), until: high)
                        .filter(matching)
                }
            }
            return found
        }
    }

    public enum Role { case source, retry, deadLetter }

    /// The source topic of `topic` and whether it is the source, one of its tiers or its DLQ.
    public static func role(of topic: String, topology: RetryTopology) -> (String, Role)? {
        for source in EventKind.sourceTopics {
            if topic == source { return (source, .source) }
            if topic == topology.deadLetterTopic(source) { return (source, .deadLetter) }
            if topology.tiers.indices.contains(where: { topology.retryTopic(source, tier: $0) == topic }) {
                return (source, .retry)
            }
        }
        return nil
    }

    public init(
        account: String, phone: String, store: Store, reader: KafkaOffsetsReader? = nil, topology: RetryTopology,
        scanLimit: Int
    ) {
        self.account = account
        self.phone = phone
        self.store = store
        self.reader = reader
        self.topology = topology
        self.scanLimit = scanLimit
    }
}
