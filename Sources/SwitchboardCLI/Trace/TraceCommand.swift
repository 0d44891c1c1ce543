import ArgumentParser
import Foundation
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardStore
import OperatorKit
import SwitchboardBase

/// `switchboard trace --account A (--phone P | --ticket T | --sid S)`: what happened to a text, a reply or a
/// customer, in order (``ConversationTrace``).
struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract:
            "Everything Switchboard did for one conversation, in order: events, retries, dead letters, SMS, notes, consent.",
        discussion: """
            Give the customer's phone, a ticket of the conversation, or an SMS id (an inbound text's MessageSid or a \
            reply's SMS sid). Reads the store and, with brokers configured, each topic partition's newest \
            --scan-limit records (source topics, retry tiers, DLQs). Phone numbers are masked unless --reveal; \
            message bodies are never shown.
            """
    )

    @Option(help: "Account id.") var account: String
    @Option(help: "The customer's phone (E.164).") var phone: String?
    @Option(help: "A Gorgias ticket id of the conversation.") var ticket: Int64?
    @Option(help: "An SMS id: an inbound text's MessageSid or a reply's SMS sid.") var sid: String?
    @Option(help: "Records read from the end of each topic partition.") var scanLimit = 50_000
    @Flag(help: "Show phone numbers in full.") var reveal = false
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var store: StoreOptions
    @OptionGroup var kafka: KafkaOptions

    func validate() throws {
        guard [phone != nil, ticket != nil, sid != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --phone, --ticket or --sid")
        }
        if let phone, !PhoneNumber.isE164(phone) { throw ValidationError("--phone must be E.164, like +15551234567") }
    }

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let brokersConfigured = kafka.brokers != nil || environment["KAFKA_BROKERS"] != nil
        let reader = brokersConfigured ? try kafka.reader(environment) : nil
        let topology = try kafka.topology(environment)
        let (account, scanLimit) = (self.account, self.scanLimit)
        let (phone, ticket, sid) = (self.phone, self.ticket, self.sid)
        let entries = try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) {
            store -> [TraceEntry] in
            guard try await store.account(id: account) != nil else { throw CLIError.notFound("no account \(account)") }
            guard
                let found = try await Self.phone(
                    account: account, phone: phone, ticket: ticket, sid: sid, store: store, reader: reader,
                    scanLimit: scanLimit)
            else {
                throw CLIError.notFound(
                    "nothing of account \(account) matches \(ticket.map { "ticket \($0)" } ?? sid ?? "")")
            }
            return try await ConversationTrace(
                account: account, phone: found, store: store, reader: reader, topology: topology, scanLimit: scanLimit
            ).entries()
        }
        let shown = reveal ? entries : entries.map(\.masked)
        if json { return try JSONOutput.print(shown) }
        if reader == nil {
            StandardError.line("note: no brokers configured (--brokers or $KAFKA_BROKERS): the topics were not read")
        }
        guard !shown.isEmpty else { return StandardOutput.line("nothing recorded for this conversation") }
        StandardOutput.line(
            TextTable.render(
                ["AT", "KIND", "WHAT", "REFERENCE"],
                shown.map { [$0.at.map { RFC3339.format($0) } ?? "-", $0.kind, $0.what, $0.reference ?? "-"] }))
    }

    /// The customer's phone: given, or found from a ticket (the store), a reply's SMS sid (the outbound journal) or
    /// an inbound text's MessageSid (its event in `sms.inbound`, keyed `<account>:<phone>`).
    static func phone(
        account: String, phone: String?, ticket: Int64?, sid: String?, store: Store, reader: KafkaOffsetsReader?,
        scanLimit: Int
    ) async throws -> String? {
        if let phone { return phone }
        if let ticket { return try await store.conversation(accountId: account, ticketId: ticket)?.phone }
        guard let sid else { return nil }
        if let message = try await store.outbound(accountId: account, providerSid: sid) { return message.toPhone }
        guard let reader else { return nil }
        let topic = EventKind.inboundText.topic
        let records = try await ConversationTrace.newestRecords(of: [topic], reader: reader, scanLimit: scanLimit) {
            $0.keyString?.hasPrefix("\(account):") == true
        }
        let decoder = EventDecoder()
        for record in records {
            guard let event = try? decoder.decode(record, sourceTopic: topic).get(),
                event.data["messageSid"]?.stringValue == sid
            else { continue }
            return event.data["from"]?.stringValue
        }
        return nil
    }
}
