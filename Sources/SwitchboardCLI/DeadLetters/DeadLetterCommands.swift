import ArgumentParser
import Foundation
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import OperatorKit

/// `switchboard dlq …`: review dead-lettered records and send them back.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List, inspect, redrive and acknowledge dead-lettered records.",
        discussion: """
            Review progress is the consumer group \(FleetRoster.deadLetterReviewGroup): redrive and ack advance it, \
            and switchboard_dlq_depth_records counts what lies after it.
            """,
        subcommands: [
            DeadLetterListCommand.self, DeadLetterShowCommand.self, DeadLetterRedriveCommand.self,
            DeadLetterAckCommand.self,
        ]
    )
}

/// What `dlq list --json` prints per record.
struct DeadLetterView: Codable {
    var location: String
    var originalTopic: String
    var originalPartition: Int32?
    var originalOffset: Int64?
    var key: String?
    var errorClass: String
    var reason: String
    var kind: DeadLetter.Kind?
    var attempts: Int
    var redriveCount: Int
    var firstFailureAt: Date?
    var failedAt: Date?

    init(_ letter: DeadLetter) {
        location = letter.location
        originalTopic = letter.originalTopic
        originalPartition = letter.originalPartition
        originalOffset = letter.originalOffset
        key = letter.keyText
        errorClass = letter.errorClass
        reason = letter.reason
        kind = letter.kind
        attempts = letter.attempts
        redriveCount = letter.redriveCount
        firstFailureAt = letter.firstFailureAt
        failedAt = letter.failedAt
    }
}

struct DeadLetterListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List dead-lettered records awaiting review.")

    @OptionGroup var options: DeadLetterOptions
    @Option(help: "At most this many records per partition.") var limit = 1000
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var kafka: KafkaOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let filter = options.filter
        let scan = DeadLetterScan(
            reader: try kafka.reader(environment), filter: filter,
            topics: try filter.deadLetterTopics(try kafka.topology(environment)))
        let letters = try await scan.slices(limit: limit).flatMap(\.letters).filter(filter.matches)
        if json { return try JSONOutput.print(letters.map(DeadLetterView.init)) }
        guard !letters.isEmpty else { return StandardOutput.line("no dead letters match") }
        StandardOutput.line(
            TextTable.render(
                ["RECORD", "FAILED AT", "ERROR CLASS", "ATTEMPTS", "REDRIVES", "KEY", "REASON"],
                letters.map { letter in
                    [
                        letter.location, letter.failedAt.map { RFC3339.format($0) } ?? "-", letter.errorClass,
                        String(letter.attempts),
                        String(letter.redriveCount),
                        letter.keyText ?? "-",
                        letter.reason.count > 80 ? letter.reason.prefix(79) + "…" : letter.reason,
                    ]
                }
            ))
    }
}

struct DeadLetterShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one dead-lettered record: headers and value.")

    @Argument(help: "The record as listed: <dlq topic>:<partition>:<offset>.") var record: String
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var kafka: KafkaOptions

    func run() async throws {
        guard let location = DeadLetter.parseLocation(record) else {
            throw ValidationError("expected <topic>.dlq:<partition>:<offset>, e.g. sms.inbound.dlq:0:12")
        }
        let environment = try CLIEnvironment.load()
        guard let letter = try await DeadLetterScan.letter(at: location, reader: try kafka.reader(environment)) else {
            throw CLIError.notFound("no record at \(self.record)")
        }
        let record = letter.record
        let value = String(validating: record.value, as: UTF8.self)
        if json {
            struct Detail: Codable {
                var record: DeadLetterView
                var headers: [String: String]
                var value: String?
            }
            let headers = Dictionary(
                record.headers.map { ($0.key, $0.stringValue ?? "(binary)") }, uniquingKeysWith: { _, last in last })
            return try JSONOutput.print(Detail(record: DeadLetterView(letter), headers: headers, value: value))
        }
        var lines = [
            "\(letter.location) (from \(letter.origin))"
        ]
        lines.append("key: \(letter.keyText ?? "(none)")")
        lines.append("headers:")
        lines += record.headers.map { "  \($0.key): \($0.stringValue ?? "(binary)")" }
        lines.append("value (\(record.value.count) bytes):")
        lines.append(value.map(Self.pretty) ?? "(not UTF-8)")
        StandardOutput.line(lines.joined(separator: "\n"))
    }

    /// JSON indented for reading; anything else as it is.
    static func pretty(_ text: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }
}

struct DeadLetterRedriveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redrive",
        abstract: "Send matching dead letters back to their source topic at a bounded rate.",
        discussion: """
            Each record goes back with its key and value, without failure headers, with switchboard-redrive-count \
            incremented. Records redriven --max-redrives times already are left alone (they keep failing: fix the \
            cause or ack them). Exit codes: 0 done, 1 failure, 2 some matching records were left for their redrive count.
            """
    )

    @OptionGroup var options: DeadLetterOptions
    @Option(help: "Records per second at most.") var rate = 50.0
    @Option(help: "Leave records already redriven this many times.") var maxRedrives = DeadLetterRedrive
        .defaultMaxRedrives
    @Flag(help: "Show what would be redriven; change nothing.") var dryRun = false
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var kafka: KafkaOptions

    func validate() throws {
        guard rate > 0 && rate <= 100_000 else { throw ValidationError("--rate must be in (0, 100000]") }
        guard maxRedrives >= 1 else { throw ValidationError("--max-redrives must be at least 1") }
    }

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let reader = try kafka.reader(environment, group: FleetRoster.deadLetterReviewGroup)
        let filter = options.filter
        let scan = DeadLetterScan(
            reader: reader, filter: filter, topics: try filter.deadLetterTopics(try kafka.topology(environment)))
        let producer =
            dryRun
            ? nil
            : try KafkaProducer(
                settings: try kafka.settings(environment), clientId: "switchboard-dlq-redrive",
                logger: CLIEnvironment.logger)
        let outcome = try await DeadLetterRedrive(scan: scan, rate: rate, maxRedrives: maxRedrives).run(
            producer: producer)
        await producer?.shutdown()
        if json {
            try JSONOutput.print(outcome)
        } else {
            StandardOutput.line("\(dryRun ? "would redrive" : "redrove") \(outcome.redriven.count) record(s)")
            if !outcome.leftForRedriveCount.isEmpty {
                StandardOutput.line(
                    "left \(outcome.leftForRedriveCount.count) already redriven \(maxRedrives)×: \(outcome.leftForRedriveCount.joined(separator: " "))"
                )
            }
        }
        if !outcome.leftForRedriveCount.isEmpty { throw ExitCode(2) }
    }
}

struct DeadLetterAckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack",
        abstract: "Mark matching dead letters reviewed without redriving them (e.g. input that can never be valid)."
    )

    @OptionGroup var options: DeadLetterOptions
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var kafka: KafkaOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        let reader = try kafka.reader(environment, group: FleetRoster.deadLetterReviewGroup)
        let filter = options.filter
        let scan = DeadLetterScan(
            reader: reader, filter: filter, topics: try filter.deadLetterTopics(try kafka.topology(environment)))
        var handled: [DeadLetterScan.Slice: Set<Int64>] = [:]
        var acknowledged: [String] = []
        for slice in try await scan.slices() {
            for letter in slice.letters where try filter.matches(letter) {
                handled[slice, default: []].insert(letter.record.offset)
                acknowledged.append(letter.location)
            }
        }
        try await scan.markReviewed(handled)
        if json { return try JSONOutput.print(acknowledged) }
        StandardOutput.line("acknowledged \(acknowledged.count) record(s)")
    }
}
