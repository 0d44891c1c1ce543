import ArgumentParser
import Foundation
import Logging
import LocalFleet
import Sandbox
import SwitchboardBase
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import SwitchboardStore
import OperatorKit

/// `switchboard-dev bench consent`: how fast a customer's STOP is recorded and confirmed, through the sandbox's signed
/// webhooks, the ingress and a real InboundWorker, with Gorgias healthy and with every Gorgias call failing while
/// ordinary texts keep arriving (which opens Gorgias' circuit).
struct ConsentBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "STOP → recorded and STOP → confirmation latency, Gorgias healthy and down. Build with -c release.",
        discussion: """
            Each customer first texts in (so the STOP has a ticket to note and close), then texts STOP at the given \
            rate. Recorded: the consent history's recording time minus when the customer's STOP reached the sandbox. \
            Confirmation: when Switchboard's confirmation reached the sandbox's Twilio, minus the same.
            """
    )

    @Option(help: "Accounts (OAuth, 80 Gorgias calls per 20 s each).") var accounts = 10
    @Option(help: "Customers per account, each sending one STOP.") var customers = 20
    @Option(help: "STOPs per second.") var rate = 20.0
    @Option(help: "Sandbox API latency in ms.") var latencyMs = 50
    @Option(help: "Write the results as JSON to this file.") var output = "bench-results/consent.json"

    struct Scenario: Codable {
        var name: String
        var gorgiasDown: Bool
        var stops: Int
        var recorded: LatencySummary
        var confirmation: LatencySummary
        var followUpsPendingAtEnd: Int
        var deadLettered: Int
    }

    struct Report: Codable {
        var machine: MachineDescription
        var latencyMs: Int
        var stopsPerSecond: Double
        var scenarios: [Scenario]
    }

    func run() async throws {
        _ = try CLIEnvironment.load()
        var logger = Logger(label: "bench-consent")
        logger.logLevel = .error
        var scenarios: [Scenario] = []
        for down in [false, true] {
            StandardError.line(
                "[consent] \(accounts * customers) STOPs at \(rate)/s, Gorgias \(down ? "failing every call" : "healthy")…"
            )
            scenarios.append(try await measure(gorgiasDown: down, logger: logger))
        }
        let report = Report(
            machine: .current(librdkafka: Librdkafka.version), latencyMs: latencyMs, stopsPerSecond: rate,
            scenarios: scenarios)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(
            atPath: (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try encoder.encode(report).write(to: URL(fileURLWithPath: output))
        let rows = scenarios.map { scenario in
            [
                scenario.name, String(scenario.stops), "\(scenario.recorded.p50Ms) / \(scenario.recorded.p99Ms)",
                "\(scenario.confirmation.p50Ms) / \(scenario.confirmation.p99Ms)",
                String(scenario.followUpsPendingAtEnd), String(scenario.deadLettered),
            ]
        }
        StandardOutput.line(report.machine.summary + "\n")
        StandardOutput.line(
            TextTable.render(
                ["GORGIAS", "STOPS", "RECORDED p50/p99 ms", "CONFIRMED p50/p99 ms", "NOTES WAITING", "DLQ"], rows))
        StandardOutput.line("\nwritten to \(output)")
    }

    private func measure(gorgiasDown: Bool, logger: Logger) async throws -> Scenario {
        var sandbox = SandboxConfiguration()
        sandbox.faults.latencyMs = latencyMs
        let stack = try LocalStack(
            name: "bench-consent", partitions: 6, topology: RetryTopology(tiers: [.seconds(30), .seconds(300)]),
            sandbox: sandbox,
            workerEnvironment: ["LOG_LEVEL": "notice"], logger: logger
        )
        let location = try DatabaseURL(stack.databaseURL, setting: "--database")
        let outcome: Result<Scenario, any Error> = await Result(catching: {
            try await Store.withStore(location, logger: logger) { store in
                try await stack.startServers(store: store, logger: logger)
                let merchants = (0..<accounts).map { index in
                    var settings = AccountSettings(brand: "Bench \(index)")
                    settings.consentReplies = .switchboard
                    settings.helpContact = "help@bench.example"
                    return LocalAccount(
                        id: "consent-\(index)", number: "+1555\(String(format: "%07d", index))", oauth: true,
                        settings: settings, providerOptOutHandling: false
                    )
                }
                try await merchants.concurrentForEach(width: 8) { try await stack.addAccount($0, store: store) }
                try stack.startWorkers([.inbound])
                try await stack.waitUntilReady()
                let people = merchants.flatMap { account in
                    (0..<customers).map {
                        (account: account, phone: "+1666\(account.number.suffix(3))\(String(format: "%04d", $0))")
                    }
                }
                try await people.concurrentForEach(width: 16) {
                    try await text(stack, $0.account, from: $0.phone, "Hi, a question about my order")
                }
                try await waitFor("every customer's first ticket", timeout: .seconds(300)) {
                    try await people.asyncCount {
                        try await store.conversation(accountId: $0.account.id, phone: $0.phone)?.currentTicketId != nil
                    } == people.count
                }
                let background = gorgiasDown ? try await startOutage(stack, merchants) : nil
                var sentAt: [String: (phone: String, account: LocalAccount, at: Date)] = [:]
                let interval = 1 / rate
                let start = Date()
                for (index, person) in people.enumerated() {
                    let due = start.addingTimeInterval(Double(index) * interval)
                    if due > Date() { try await Task.sleep(for: .seconds(due.timeIntervalSinceNow)) }
                    let sid = try await text(stack, person.account, from: person.phone, "STOP")
                    sentAt[sid] = (person.phone, person.account, Date())
                }
                try await waitFor("every STOP recorded and confirmed", timeout: .seconds(300)) {
                    try await confirmations(stack, merchants).count >= people.count
                }
                background?.cancel()
                var recorded: [Double] = []
                for (sid, sent) in sentAt {
                    let history = try await store.consentHistory(accountId: sent.account.id, phone: sent.phone)
                    if let change = history.first(where: { $0.eventId == sid }) {
                        recorded.append(change.recordedAt.timeIntervalSince(sent.at))
                    }
                }
                let confirmed = try await confirmations(stack, merchants)
                let confirmation = sentAt.values.compactMap { sent in
                    confirmed[sent.phone].map { $0.timeIntervalSince(sent.at) }
                }
                let pending = try await store.pendingFollowUps().count
                var deadLettered = 0
                for topic in [EventKind.consentTopic, EventKind.inboundText.topic] {
                    deadLettered += try await Self.records(
                        in: stack.topology.deadLetterTopic(topic), brokers: stack.broker.bootstrapServers,
                        logger: logger)
                }
                return Scenario(
                    name: gorgiasDown ? "down (every call 503)" : "healthy", gorgiasDown: gorgiasDown,
                    stops: sentAt.count,
                    recorded: LatencySummary(seconds: recorded), confirmation: LatencySummary(seconds: confirmation),
                    followUpsPendingAtEnd: pending, deadLettered: deadLettered
                )
            }
        })
        _ = await stack.stop()
        try? FileManager.default.removeItem(atPath: stack.directory)
        return try outcome.get()
    }

    /// Gorgias fails every call, and new customers keep texting the merchants (their texts fail and open the circuit).
    private func startOutage(_ stack: LocalStack, _ merchants: [LocalAccount]) async throws -> Task<Void, Never> {
        guard case .object(var faults) = try await stack.control.get("/sandbox/faults") else {
            throw CLIError.failed("no sandbox faults")
        }
        faults["gorgiasFailRate"] = 1
        try await stack.control.post("/sandbox/faults", .object(faults))
        return Task {
            var index = 0
            while !Task.isCancelled {
                let account = merchants[index % merchants.count]
                _ = try? await text(stack, account, from: "+1777\(String(format: "%07d", index))", "Is anyone there?")
                index += 1
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    @discardableResult
    private func text(_ stack: LocalStack, _ account: LocalAccount, from phone: String, _ body: String) async throws
        -> String
    {
        let sent = try await stack.control.post(
            "/sandbox/twilio/\(account.twilioSid)/inbound",
            ["from": .string(phone), "to": .string(account.number), "body": .string(body)])
        return sent["sid"]?.stringValue ?? ""
    }

    /// When each customer's confirmation reached the sandbox's Twilio.
    private func confirmations(_ stack: LocalStack, _ merchants: [LocalAccount]) async throws -> [String: Date] {
        var found: [String: Date] = [:]
        for account in merchants {
            for message in try await stack.control.get("/sandbox/twilio/\(account.twilioSid)")["messages"]?.arrayValue
                ?? []
            where message["direction"] == "outbound-api"
                && message["body"]?.stringValue?.contains("unsubscribed") == true
            {
                if let phone = message["to"]?.stringValue,
                    let at = message["sandbox_created_at"]?.stringValue.flatMap(RFC3339.parse)
                {
                    found[phone] = at
                }
            }
        }
        return found
    }

    /// Records in `topic` (all partitions), from its watermarks.
    static func records(in topic: String, brokers: String, logger: Logger) async throws -> Int {
        try await BlockingCall.run {
            let reader = try KafkaOffsetsReader(settings: KafkaSettings(bootstrapServers: brokers), logger: logger)
            let partitions = try reader.topics()[topic] ?? 0
            return try (0..<partitions).reduce(0) { total, partition in
                let marks = try reader.watermarks(TopicPartition(topic, Int32(partition)))
                return total + Int(marks.high - marks.low)
            }
        }
    }

    private func waitFor(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CLIError.failed("timed out waiting for \(what)")
    }
}

extension Sequence where Element: Sendable {
    func asyncCount(_ predicate: (Element) async throws -> Bool) async rethrows -> Int {
        var count = 0
        for element in self where try await predicate(element) { count += 1 }
        return count
    }
}
