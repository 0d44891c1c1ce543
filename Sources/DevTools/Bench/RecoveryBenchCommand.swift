import ArgumentParser
import Foundation
import Logging
import LocalFleet
import Sandbox
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardRuntime
import SwitchboardStore
import OperatorKit
import SwitchboardBase

/// `switchboard-dev bench recovery`: how long a SIGKILLed worker's partitions go unconsumed when a replacement starts at
/// once (a crashed pod restarting under its static member id), on each broker combination, beside the session
/// timeout that bounds the wait when no replacement comes.
struct RecoveryBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery",
        abstract: "Time to resume after a SIGKILL, on each broker and librdkafka combination.",
        discussion: """
            StatusWorkers share sms.subscriptions while sign-ups arrive at a steady rate; every --interval seconds one \
            is killed and a replacement starts at once under the same group.instance.id. Time to resume: from the \
            kill until every partition processed a record again (the ledger's times). Stall: the longest time any \
            partition processed nothing after the last kill had been recovered from.
            """
    )

    @Option(help: "Combinations: all, or a comma-separated list of mock-system, tansu-2.16, mock-2.16.") var on = [
        "all"
    ]
    @Option(help: "StatusWorker replicas in the group.") var workers = 3
    @Option(help: "Kills per combination.") var kills = 8
    @Option(help: "Seconds between kills.") var interval = 6
    @Option(help: "Records per second.") var rate = 30.0
    @Option(help: "Partitions of the topic.") var partitions = 6
    @Option(help: "session.timeout.ms for the workers (default: 3 s on the mock cluster, the worker's 10 s on Tansu).")
    var sessionTimeoutMs: Int?
    @Flag(help: "Start replacements as new members instead of under the killed one's group.instance.id.")
    var dynamicMembership = false
    @Flag(help: "Keep the worker logs (with librdkafka's group debugging), the store and the timeline.") var keep =
        false
    @Option(help: "Write the results as JSON to this file.") var output = "bench-results/recovery.json"
    @Flag(help: .hidden) var resultLine = false

    struct Result: Codable {
        var combination: String
        var librdkafka: String
        var staticMembership: Bool
        var sessionTimeoutMs: Int
        var workers: Int
        var records: Int
        var missing: Int
        var timeToResumeSeconds: SecondsSummary
        var longestStallAfterRecoverySeconds: Double
    }

    struct Report: Codable {
        var machine: MachineDescription
        var results: [Result]
    }

    func run() async throws {
        _ = try CLIEnvironment.load()
        let combinations = try CombinationRuns.parse(on)
        if resultLine {
            try CombinationRuns.printResultLine(try await measure())
            return
        }
        var arguments = [
            "bench", "recovery", "--workers", "\(workers)", "--kills", "\(kills)", "--interval", "\(interval)",
            "--rate", "\(rate)",
        ]
        arguments +=
            ["--partitions", "\(partitions)"] + (sessionTimeoutMs.map { ["--session-timeout-ms", "\($0)"] } ?? [])
        if dynamicMembership { arguments.append("--dynamic-membership") }
        if keep { arguments.append("--keep") }
        let results = try await CombinationRuns.run(combinations, childArguments: arguments) { try await measure() }
            .map(\.1)
        let report = Report(machine: .current(librdkafka: Librdkafka.version), results: results)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(
            atPath: (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try encoder.encode(report).write(to: URL(fileURLWithPath: output))
        StandardOutput.line(
            TextTable.render(
                [
                    "COMBINATION", "LIBRDKAFKA", "MEMBERSHIP", "SESSION TIMEOUT", "RESUME P50", "RESUME P99",
                    "RESUME MAX", "STALL AFTER", "MISSING",
                ],
                results.map { result in
                    [
                        result.combination, result.librdkafka, result.staticMembership ? "static" : "dynamic",
                        "\(result.sessionTimeoutMs / 1000) s",
                        "\(result.timeToResumeSeconds.p50) s", "\(result.timeToResumeSeconds.p99) s",
                        "\(result.timeToResumeSeconds.max) s",
                        "\((result.longestStallAfterRecoverySeconds * 10).rounded() / 10) s", "\(result.missing)",
                    ]
                }
            ))
    }

    /// One drill on the combination this process runs.
    private func measure() async throws -> Result {
        let logger = {
            var logger = Logger(label: "bench-recovery"); logger.logLevel = .error; return logger
        }()
        let combination = BrokerCombination.current
        StandardError.line(
            "[\(combination)] \(workers) StatusWorkers, \(kills) kills every \(interval) s, \(Int(rate)) records/s…")
        var environment = ["WORKER_TOPICS": EventKind.subscription.topic, "LOG_LEVEL": keep ? "debug" : "notice"]
        if keep { environment["KAFKA_DEBUG"] = "cgrp" }
        if let sessionTimeoutMs { environment["KAFKA_SESSION_TIMEOUT_MS"] = "\(sessionTimeoutMs)" }
        let stack = try LocalStack(
            name: "recovery", partitions: partitions, topology: RetryTopology(tiers: [.seconds(5), .seconds(30)]),
            sandbox: SandboxConfiguration(),
            workerEnvironment: environment, broker: combination.broker, logger: logger
        )
        // What the workers run with: this option, else the local broker's choice, else the consumer's default.
        let session =
            stack.environment["KAFKA_SESSION_TIMEOUT_MS"].flatMap(Int.init)
            ?? Int(KafkaConsumer.sessionTimeout.milliseconds)
        let location = try DatabaseURL(stack.databaseURL, setting: "--database")
        let outcome: Swift.Result<RecoveryTimeline, any Error> = await Swift.Result {
            try await Store.withStore(location, logger: logger) { store in
                try await stack.startServers(store: store, logger: logger)
                let account = LocalAccount(
                    id: "recovery", number: "+15550100000", settings: AccountSettings(brand: "Recovery"))
                try await stack.addAccount(account, store: store)
                try stack.startWorkers([.status], count: workers)
                try await stack.waitUntilReady()
                var drill = RecoveryDrill(kills: kills, interval: .seconds(interval), rate: rate)
                drill.cooldown = .seconds(max(15, 2 * session / 1000))
                let dynamic = dynamicMembership
                return try await drill.run(
                    RecoveryDrill.Fleet(
                        producer: stack.producer,
                        record: { index in
                            let phone = "+1555\(String(format: "%07d", index % 500))"
                            let id = "recovery-\(index)"
                            let update = SubscriptionUpdate(
                                accountId: account.id, phone: phone,
                                state: index % 7 == 0 ? .unsubscribed : .subscribed, at: Date(),
                                source: "bench-recovery")
                            return (id, update.record(id: id, source: "bench"))
                        },
                        victims: { stack.workers.filter(\.isRunning) },
                        restart: { victim in
                            if dynamic { try stack.startWorkers([victim.kind]) } else { try stack.restart(victim) }
                        },
                        processed: { try await store.processedTimes(group: FleetRoster.status.group) }
                    ), progress: { StandardError.line("[\(combination)] \($0)") })
            }
        }
        _ = await stack.stop()
        let timeline = try outcome.get()
        if keep {
            try timeline.tabSeparated.write(
                toFile: stack.directory + "/timeline.tsv", atomically: true, encoding: .utf8)
            StandardError.line(
                "[\(combination)] kept the worker logs (librdkafka's group debugging on), the store and timeline.tsv in \(stack.directory)"
            )
        } else {
            try? FileManager.default.removeItem(atPath: stack.directory)
        }
        let resumes = timeline.timesToResume
        return Result(
            combination: combination.name, librdkafka: Librdkafka.version, staticMembership: !dynamicMembership,
            sessionTimeoutMs: session,
            workers: workers, records: timeline.produced.count, missing: timeline.missing.count,
            timeToResumeSeconds: SecondsSummary(resumes),
            longestStallAfterRecoverySeconds: timeline.longestStallAfterRecovery
        )
    }
}
