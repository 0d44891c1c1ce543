import ArgumentParser
import Foundation
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import OperatorKit

/// `switchboard produce`: events from flags or a JSON-lines file, each validated against `schemas/` before anything
/// is sent, keyed and routed like the upstream systems do.
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce events (validated against schemas/) to their topics.",
        usage: """
            switchboard produce --type sms.message.received --data '{"accountId":"demo","messageSid":"SM1","from":"+15550101001","to":"+15550100000","body":"hi","receivedAt":"2026-11-24T10:00:00Z"}'
            switchboard produce --file events.jsonl --json
            """,
        discussion: """
            Either --type with --data, or --file with one event per line: a whole CloudEvent, or {"type", "data"} \
            (id, source and time are then filled in). The topic and key follow from the type and data. Nothing is \
            produced unless every event is valid. Exit codes: 0 produced, 1 invalid input or Kafka failure.
            """,
    )

    @Option(help: "Event type, e.g. sms.message.received.") var type: String?
    @Option(help: "The event's data as JSON.") var data: String?
    @Option(help: "Event id (default: a new UUID).") var id: String?
    @Option(help: "JSON-lines file of events ('-' for stdin).") var file: String?
    @Option(help: "CloudEvents source for events without one.") var source = "switchboard-cli"
    @Flag(help: "Validate only; produce nothing.") var dryRun = false
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var kafka: KafkaOptions

    struct Produced: Codable {
        var id: String
        var type: String
        var topic: String
        var key: String
        var partition: Int32?
        var offset: Int64?
    }

    func validate() throws {
        guard (file == nil) != (type == nil && data == nil) else {
            throw ValidationError("give either --file, or --type with --data")
        }
        if file == nil, type == nil || data == nil { throw ValidationError("--type and --data go together") }
    }

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let documents = try readDocuments()
        var records: [(Produced, OutgoingRecord)] = []
        var problems: [String] = []
        for (line, document) in documents {
            do {
                records.append(try EventInput.record(document, defaultId: id, source: source))
            } catch {
                problems.append("\(file == nil ? "event" : "line \(line)"): \(error)")
            }
        }
        guard problems.isEmpty else {
            throw CLIError.failed("nothing produced; invalid input:\n" + problems.joined(separator: "\n"))
        }
        var produced = records.map(\.0)
        if !dryRun {
            let producer = try KafkaProducer(
                settings: try kafka.settings(environment), clientId: "switchboard-cli", logger: CLIEnvironment.logger)
            let reports = try await producer.sendAll(records.map(\.1))
            for index in produced.indices {
                produced[index].partition = reports[index].partition
                produced[index].offset = reports[index].offset
            }
            await producer.shutdown()
        }
        if json { return try JSONOutput.print(produced) }
        for event in produced {
            let position =
                event.offset.map { " → \(event.topic)[\(event.partition ?? 0)]@\($0)" }
                ?? " (dry run: valid for \(event.topic))"
            StandardOutput.line("\(event.type) \(event.id) key \(event.key)\(position)")
        }
    }

    /// The input documents with their line numbers.
    private func readDocuments() throws -> [(Int, String)] {
        if let type, let data { return [(1, #"{"type":\#(JSONValue.string(type).serialized()),"data":\#(data)}"#)] }
        guard let file else { return [] }
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw ValidationError("--file \(file) cannot be read")
            }
            text = String(decoding: contents, as: UTF8.self)
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { ($0.offset + 1, String($0.element)) }
            .filter { !$0.1.trimmingCharacters(in: .whitespaces).isEmpty }
    }
}

/// Turns operator input into a validated record.
enum EventInput {
    static func record(_ line: String, defaultId: String?, source: String) throws -> (
        ProduceCommand.Produced, OutgoingRecord
    ) {
        var document = try JSONParser.parse(Array(line.utf8))
        guard case .object(var members) = document else { throw CLIError.failed("an event must be a JSON object") }
        if members["specversion"] == nil {
            members["specversion"] = "1.0"
            members["id"] = members["id"] ?? .string(defaultId ?? UUID().uuidString)
            members["source"] = members["source"] ?? .string(source)
            members["time"] = members["time"] ?? .string(RFC3339.format(Date(), fractional: true))
            members["datacontenttype"] = members["datacontenttype"] ?? "application/json"
            document = .object(members)
        }
        guard let kind = document["type"]?.stringValue.flatMap(EventKind.init(rawValue:)) else {
            throw CLIError.failed(
                "unknown type \(document["type"]?.serialized() ?? "(missing)"); known: \(EventKind.allCases.map(\.type).joined(separator: ", "))"
            )
        }
        let bytes = Array(document.serialized().utf8)
        let event = try EventDecoder().decode(bytes, sourceTopic: kind.topic).get()
        let key = try EventKind.partitionKey(of: event)
        // A consent keyword goes to sms.consent, as the ingress sends it (default words and OptOutType).
        let topic = try EventKind.topic(of: event)
        return (
            ProduceCommand.Produced(id: event.id, type: kind.type, topic: topic, key: key),
            OutgoingRecord(topic: topic, key: Array(key.utf8), value: bytes)
        )
    }
}
