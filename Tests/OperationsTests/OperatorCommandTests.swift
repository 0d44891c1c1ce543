import Foundation
import Logging
import Testing
import KafkaMock
import LocalFleet
import Sandbox
import SwitchboardBase
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import TestSupport

/// `switchboard produce`, `lag` and `dlq` against a real broker and real workers.
@Suite("Operator CLI", .serialized, .timeLimit(.minutes(4)))
struct OperatorCommandTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    func text(_ from: String, _ body: String, sid: String) -> OutgoingRecord {
        InboundText(accountId: acme.id, messageSid: sid, from: from, to: acme.number, body: body, receivedAt: Date())
            .record(id: sid, source: "test")
    }

    /// The CLI's environment for this fleet's broker and retry tiers (and what the broker needs of its clients).
    func environment(_ fleet: E2EFleet) -> [String: String] {
        let wanted = Set(["KAFKA_BROKERS", "RETRY_TIERS", "DATABASE_URL", "SWITCHBOARD_SECRET_KEY"]).union(
            fleet.broker.local.clientEnvironment.keys)
        return fleet.environment.filter { wanted.contains($0.key) }
    }

    @Test(
        "topics create makes every source topic, retry tier and DLQ through the admin API where the broker has one, and says so where it has not"
    )
    func topicsCreate() async throws {
        let broker: (servers: String, keep: Any)
        switch LocalBroker.Kind.fromEnvironment {
        case .tansu:
            let tansu = try TansuBroker()
            broker = (tansu.bootstrapServers, tansu)
        case .mock:
            let mock = try EmbeddedBroker(brokers: 1, logger: .init(label: "topics-test"))
            broker = (mock.bootstrapServers, mock)
        }
        let environment = ["KAFKA_BROKERS": broker.servers, "RETRY_TIERS": "30s,5m,1h"]
        let expected = RetryTopology().allTopics(EventKind.sourceTopics)
        let first = try await CLIProcess.run(
            ["topics", "create", "--partitions", "3", "--timeout", "5", "--json"], environment: environment)
        if LocalBroker.Kind.fromEnvironment == .mock {
            // librdkafka's mock cluster has no CreateTopics: the command fails and says so.
            #expect(
                first.status == 1 && first.errors.contains("CreateTopics")
                    && first.errors.contains("switchboard-dev broker"), "\(first.errors)")
        } else {
            let rows = (try? JSONParser.parse(Array(first.output.utf8)).arrayValue) ?? []
            #expect(
                Set(rows.compactMap { $0["topic"]?.stringValue }) == Set(expected), "\(first.output) \(first.errors)")
            #expect(first.status == 0 && rows.allSatisfy { $0["result"] == "ok" }, "\(first.output) \(first.errors)")
            let again = try await CLIProcess.run(["topics", "create", "--partitions", "3"], environment: environment)
            #expect(again.status == 0, "existing topics are left as they are: \(again.output) \(again.errors)")
            let servers = broker.servers
            let topics = try await BlockingCall.run {
                try KafkaOffsetsReader(
                    settings: KafkaSettings(bootstrapServers: servers), logger: .init(label: "topics-test")
                ).topics()
            }
            for topic in expected { #expect(topics[topic] == 3, "\(topic): \(topics[topic] ?? 0) partitions") }
        }
        withExtendedLifetime(broker.keep) {}
    }

    @Test(
        "produce validates every event before sending any, keys and routes them by type, and reports where they landed")
    func produce() async throws {
        let fleet = try await E2EFleet()
        let file = NSTemporaryDirectory() + "events-\(UUID().uuidString).jsonl"
        let valid =
            #"{"type":"sms.subscription.changed","data":{"accountId":"acme","phone":"+15551230000","state":"subscribed","at":"2026-11-24T10:00:00Z","source":"form"}}"#
        let invalid = #"{"type":"sms.subscription.changed","data":{"accountId":"acme","phone":"555","state":"maybe"}}"#
        try (valid + "\n" + invalid + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let refused = try await CLIProcess.run(["produce", "--file", file], environment: environment(fleet))
        #expect(
            refused.status == 1 && refused.errors.contains("line 2") && refused.errors.contains("schema"),
            "\(refused.errors)")

        try (valid + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let produced = try await CLIProcess.run(["produce", "--file", file, "--json"], environment: environment(fleet))
        #expect(produced.status == 0, "\(produced.errors)")
        let report = try JSONParser.parse(Array(produced.output.utf8))
        let first = report.arrayValue?.first
        #expect(first?["topic"] == "sms.subscriptions" && first?["key"] == "acme:+15551230000")
        let flags = try await CLIProcess.run(
            [
                "produce", "--type", "sms.message.status", "--data",
                #"{"accountId":"acme","messageSid":"SM1","status":"sent","at":"2026-11-24T10:00:00Z"}"#,
            ], environment: environment(fleet))
        #expect(flags.status == 0 && flags.output.contains("sms.delivery-status"), "\(flags.errors)")
        let records = try await fleet.broker.read("sms.subscriptions", atLeast: 1)
        #expect(records.count == 1, "the invalid batch produced nothing")
        let usage = try await CLIProcess.run(
            ["produce", "--type", "sms.message.status"], environment: environment(fleet))
        #expect(usage.status == 64, "a usage error exits 64")
        await fleet.shutdown()
    }

    @Test(
        "lag reads committed offsets and watermarks without joining, and agrees with the worker's /metrics per partition"
    )
    func lagMatchesMetrics() async throws {
        // Every Gorgias call stalls, so nothing finishes and the lag holds still while both are read.
        let fleet = try await E2EFleet(environment: ["KAFKA_STATISTICS_INTERVAL_MS": "1000", "SHUTDOWN_TIMEOUT": "2s"])
        { sandbox in
            sandbox.faults.stallEvery = 1
            sandbox.faults.stallMs = 120_000
        }
        try await fleet.addAccount(acme)
        try await fleet.produce(
            (0..<30).map { text("+1555100\(String(format: "%04d", $0))", "hello", sid: "SM-lag-\($0)") })
        let down = try await CLIProcess.run(
            ["lag", "--group", "switchboard-inbound", "--json"], environment: environment(fleet))
        #expect(down.status == 0, "\(down.errors)")
        #expect(
            Self.lagByPartition(down.output)["sms.inbound"]?.values.reduce(0, +) == 30, "works while no worker runs")

        let worker = try await fleet.start(.inbound)
        var metrics: [Int32: Int] = [:]
        #expect(
            await eventually(timeout: .seconds(20)) {
                metrics = Self.metricLag(await worker.metrics(), topic: "sms.inbound")
                return metrics.values.reduce(0, +) == 30 && metrics.count == 3
            })
        let cli = try await CLIProcess.run(
            ["lag", "--group", "switchboard-inbound", "--json"], environment: environment(fleet))
        #expect(Self.lagByPartition(cli.output)["sms.inbound"] == metrics)
        await worker.kill9()
        await fleet.shutdown()
    }

    @Test(
        "dead letters are listed with their reason, redriven at a bounded rate once the cause is fixed, and processed; depth returns to 0"
    )
    func deadLetterRedrive() async throws {
        // A circuit that never opens, so the four texts climb the tiers to the DLQ instead of pausing their topic.
        let fleet = try await E2EFleet(environment: [
            "IN_PLACE_RETRIES": "1", "DLQ_DEPTH_INTERVAL": "1s", "CIRCUIT_BREAKER_THRESHOLD": "1000",
        ])
        try await fleet.addAccount(acme)
        // The helpdesk is down for longer than the retry tiers: every text ends in the DLQ.
        try await fleet.sandbox.post("/sandbox/faults", ["failRate": 1.0])
        let worker = try await fleet.start(.inbound)
        try await fleet.produce((0..<4).map { text("+1555200000\($0)", "Where is my order?", sid: "SM-dlq-\($0)") })
        let env = environment(fleet)
        var listed: [JSONValue] = []
        #expect(
            await eventually(timeout: .seconds(60)) {
                let list = try? await CLIProcess.run(
                    ["dlq", "list", "--topic", "sms.inbound", "--json"], environment: env)
                listed = (list.flatMap { try? JSONParser.parse(Array($0.output.utf8)) })?.arrayValue ?? []
                return listed.count == 4
            }, "\(fleet.logs)")
        #expect(
            listed.allSatisfy { $0["errorClass"] == "gorgias.http_503" && $0["originalTopic"] == "sms.inbound" })
        #expect(
            await eventually(timeout: .seconds(10)) {
                metricSum(await worker.metrics(), "switchboard_dlq_depth_records", matching: "sms.inbound.dlq") == 4
            })
        let filtered = try await CLIProcess.run(["dlq", "list", "--error-class", "event.", "--json"], environment: env)
        #expect(try JSONParser.parse(Array(filtered.output.utf8)).arrayValue?.isEmpty == true)
        for (account, count) in [("acme", 4), ("globex", 0)] {
            let byAccount = try await CLIProcess.run(["dlq", "list", "--account", account, "--json"], environment: env)
            #expect(
                try JSONParser.parse(Array(byAccount.output.utf8)).arrayValue?.count == count, "--account \(account)")
        }

        let dry = try await CLIProcess.run(
            ["dlq", "redrive", "--topic", "sms.inbound", "--dry-run", "--json"], environment: env)
        #expect(try JSONParser.parse(Array(dry.output.utf8))["redriven"]?.arrayValue?.count == 4)
        #expect(try await fleet.gorgias("acme")["tickets"]?.arrayValue?.isEmpty == true, "a dry run changes nothing")

        try await fleet.sandbox.post("/sandbox/faults", ["failRate": 0.0])
        let started = ContinuousClock.now
        let redrive = try await CLIProcess.run(
            ["dlq", "redrive", "--topic", "sms.inbound", "--rate", "5", "--json"], environment: env)
        #expect(redrive.status == 0, "\(redrive.errors)")
        #expect(ContinuousClock.now - started >= .milliseconds(600), "4 records at 5/s take at least 0.6 s")
        #expect(
            await eventually(timeout: .seconds(30)) {
                (try? await fleet.gorgias("acme")["tickets"]?.arrayValue?.count) == 4
            }, "\(fleet.logs)")
        let after = try await CLIProcess.run(["dlq", "list", "--json"], environment: env)
        #expect(
            try JSONParser.parse(Array(after.output.utf8)).arrayValue?.isEmpty == true, "redriven records are reviewed")
        #expect(
            await eventually(timeout: .seconds(10)) {
                metricSum(await worker.metrics(), "switchboard_dlq_depth_records", matching: "sms.inbound.dlq") == 0
            })
        let redriven = try await fleet.broker.read("sms.inbound", atLeast: 8)
        #expect(redriven.suffix(4).allSatisfy { $0.header(FailureHeaders.redriveCount) == "1" })
        await fleet.shutdown()
    }

    @Test(
        "every command of every executable answers --help with exit 0; a bad option exits 64 and names it; the operator CLI offers no developer tool"
    )
    func help() async throws {
        let commands: [(CLIProcess.Executable, [String])] =
            [
                [], ["produce"], ["dlq"], ["dlq", "list"], ["dlq", "show"], ["dlq", "redrive"], ["dlq", "ack"], ["lag"],
                ["topics"], ["trace"], ["consent"], ["accounts"], ["accounts", "add"], ["accounts", "list"],
                ["accounts", "show"], ["accounts", "disconnect"], ["accounts", "reconnect"], ["accounts", "delete"],
                ["conversations", "stats"], ["conversations", "show"], ["migrate"],
            ].map { (.operatorCLI, $0) }
            + [[], ["fleet"], ["broker"], ["sandbox"], ["bench"]].map { (.devTools, $0) }
            + [(.ingress, []), (.console, [])]
        for (executable, command) in commands {
            let result = try await CLIProcess.run(command + ["--help"], executable: executable)
            #expect(
                result.status == 0 && result.output.contains("USAGE"),
                "\(executable.rawValue) \(command.joined(separator: " ")) --help")
        }
        let operatorHelp = try await CLIProcess.run(["--help"]).output
        for tool in ["fleet", "bench", "sandbox", "broker", "ingress", "console"] {
            #expect(!operatorHelp.contains("  \(tool) "), "switchboard --help offers \(tool)")
        }
        let bad = try await CLIProcess.run(["lag", "--frobnicate"])
        #expect(bad.status == 64 && bad.errors.contains("--frobnicate"))
    }

    @Test("a command against an unreachable or unknown PostgreSQL database fails within seconds and says why")
    func unreachableDatabase() async throws {
        let secretKey = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let closedPort = freeLoopbackPort()
        let started = ContinuousClock.now
        let refused = try await CLIProcess.run(
            ["accounts", "list"],
            environment: [
                "DATABASE_URL": "postgres://switchboard:pw@127.0.0.1:\(closedPort)/switchboard",
                "SWITCHBOARD_SECRET_KEY": secretKey,
            ]
        )
        #expect(
            refused.status == 1 && refused.errors.contains("cannot connect to PostgreSQL at 127.0.0.1:\(closedPort)"),
            "\(refused.errors)")
        #expect(
            ContinuousClock.now - started < .seconds(30), "the pool's retries no longer hide the failure for a minute")
        #expect(!refused.errors.contains("pw@"))
    }

    /// `lag --json` rows as topic → partition → lag.
    static func lagByPartition(_ json: String) -> [String: [Int32: Int]] {
        var result: [String: [Int32: Int]] = [:]
        for row in (try? JSONParser.parse(Array(json.utf8)))?.arrayValue ?? [] {
            guard let topic = row["topic"]?.stringValue, let partition = row["partition"]?.intValue,
                let lag = row["lag"]?.intValue
            else { continue }
            result[topic, default: [:]][Int32(partition)] = Int(lag)
        }
        return result
    }

    /// `switchboard_consumer_lag_records` samples of one topic as partition → lag.
    static func metricLag(_ text: String, topic: String) -> [Int32: Int] {
        var result: [Int32: Int] = [:]
        for line in text.split(separator: "\n")
        where line.hasPrefix("switchboard_consumer_lag_records{") && line.contains("topic=\"\(topic)\"") {
            guard let range = line.range(of: "partition=\""), let end = line[range.upperBound...].firstIndex(of: "\""),
                let partition = Int32(line[range.upperBound..<end]),
                let value = Double(line.split(separator: " ").last ?? "")
            else { continue }
            result[partition] = Int(value)
        }
        return result
    }
}
