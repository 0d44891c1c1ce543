import ArgumentParser
import Foundation
import Logging
import LocalFleet
import Sandbox
import SwitchboardKafka
import SwitchboardRuntime
import SwitchboardStore
import OperatorKit

/// `switchboard-dev bench e2e`: the real executables end to end through the sandbox, on SQLite and PostgreSQL, beside
/// `kcat` (the consumption ceiling) and a one-record-at-a-time consumer doing the same calls (the baseline).
struct E2EBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "End-to-end throughput and latency of the fleet through the sandbox, with kcat and a baseline.",
        discussion: """
            Accounts are API-key accounts (Gorgias: 40 calls per 20 s each); the mix stays within each account's \
            burst except for the hot account, which texts 100× as much as the others and is throttled. PostgreSQL \
            runs from Debian's binaries on a free loopback port. Build with -c release.
            """
    )

    @Option(help: "sqlite, postgres or both.") var store = "both"
    @Option(help: "Sandbox API latency in ms.") var latencyMs = 50
    @Option(help: "Accounts (besides the hot one).") var accounts = 150
    @Option(help: "Conversations per account.") var conversations = 2
    @Option(help: "Threaded texts per conversation after its first text.") var threads = 8
    @Option(help: "Worker processes of each type.") var workers = 1
    @Option(help: "MAX_IN_FLIGHT of each worker.") var inFlight = 256
    @Option(help: "Partitions per topic.") var partitions = 6
    @Option(help: "Length of the hot-account phase in seconds.") var hotSeconds = 20
    @Option(help: "The hot account's texts per second (each other account sends 1/100 of it).") var hotRate = 20.0
    @Option(help: "Accounts texting beside the hot one.") var hotOthers = 20
    @Option(help: "Texts for the one-at-a-time baseline (0 skips it).") var baselineRecords = 120
    @Option(help: "Write the results as JSON to this file.") var output = "bench-results/e2e.json"

    func validate() throws {
        guard ["sqlite", "postgres", "both"].contains(store) else {
            throw ValidationError("--store must be sqlite, postgres or both")
        }
        guard accounts >= hotOthers, hotOthers > 0 else {
            throw ValidationError("--hot-others must be between 1 and --accounts")
        }
    }

    func run() async throws {
        _ = try CLIEnvironment.load()
        var logger = Logger(label: "bench-e2e")
        logger.logLevel = .error
        let options = E2EBenchOptions(
            latencyMs: latencyMs, accounts: accounts, conversationsPerAccount: conversations,
            threadedTextsPerConversation: threads,
            workersPerType: workers, inFlight: inFlight, partitions: partitions, hotSeconds: hotSeconds,
            hotTextsPerSecond: hotRate,
            hotNormalAccounts: hotOthers
        )
        var runs: [E2EStoreResult] = []
        if store != "postgres" {
            runs.append(
                try await E2EBenchRun(options: options, storeName: "sqlite", databaseURL: nil, logger: logger).run())
        }
        if store != "sqlite" {
            let postgres = try await ThrowawayPostgres()
            defer { postgres.destroy() }
            let url = try postgres.createDatabase("bench")
            runs.append(
                try await E2EBenchRun(options: options, storeName: "postgres", databaseURL: url, logger: logger).run())
        }
        let baseline =
            baselineRecords > 0
            ? try await Self.baseline(options: options, records: baselineRecords, logger: logger) : nil
        let report = E2EBenchReport(
            machine: .current(librdkafka: Librdkafka.version), options: options, runs: runs, baseline: baseline)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(
            atPath: (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try encoder.encode(report).write(to: URL(fileURLWithPath: output))
        StandardOutput.line("\(report.machine.summary)\n\n\(report.table)\n\nwritten to \(output)")
    }

    /// The same InboundWorker with MAX_IN_FLIGHT=1 on the same partitions, sandbox latency and mix shape: what a
    /// bridge that handles one record at a time achieves.
    static func baseline(options: E2EBenchOptions, records: Int, logger: Logger) async throws -> BaselineResult {
        var sandbox = SandboxConfiguration()
        sandbox.faults.latencyMs = options.latencyMs
        let stack = try LocalStack(
            name: "bench-baseline", partitions: options.partitions, topology: RetryTopology(tiers: [.seconds(5)]),
            sandbox: sandbox,
            workerEnvironment: ["MAX_IN_FLIGHT": "1", "LOG_LEVEL": "notice"], logger: logger
        )
        let location = try DatabaseURL(stack.databaseURL, setting: "--database")
        let outcome: Result<BaselineResult, any Error> = await Result(catching: {
            try await Store.withStore(location, logger: logger) { store in
                try await stack.startServers(store: store, logger: logger)
                let rounds = 1 + options.threadedTextsPerConversation
                let conversationCount = max(1, records / rounds)
                let accounts = BenchTraffic.accounts(
                    "base", count: max(1, conversationCount / options.conversationsPerAccount))
                try await accounts.concurrentForEach(width: 16) { try await stack.addAccount($0, store: store) }
                try stack.startWorkers([.inbound])
                try await stack.waitUntilReady()
                let conversations = BenchTraffic.conversations(accounts, perAccount: options.conversationsPerAccount)
                let observer = BenchObserver(stack: stack)
                // First texts untimed (they create customers and tickets), then the threaded texts, timed.
                let firsts = conversations.enumerated().map { index, conversation in
                    BenchTraffic.text(conversation, sid: "SMbase\(index)r0")
                }
                StandardError.line(
                    "[baseline] \(firsts.count) first texts through one InboundWorker with MAX_IN_FLIGHT=1…")
                _ = try await stack.producer.sendAll(firsts)
                try await observer.wait("the baseline's first texts", timeout: .seconds(900)) {
                    await observer.metric(.inbound, "switchboard_records_total") >= Double(firsts.count)
                }
                let started = Date()
                var texts: [OutgoingRecord] = []
                var sids: [String] = []
                for round in 1..<rounds {
                    for (index, conversation) in conversations.enumerated() {
                        let sid = "SMbase\(index)r\(round)"
                        sids.append(sid)
                        texts.append(BenchTraffic.text(conversation, sid: sid, at: started))
                    }
                }
                StandardError.line("[baseline] \(texts.count) threaded texts…")
                _ = try await stack.producer.sendAll(texts)
                try await observer.wait("the baseline", timeout: .seconds(900)) {
                    await observer.metric(.inbound, "switchboard_records_total") >= Double(firsts.count + texts.count)
                }
                let created = try await observer.importedMessages(accounts.map(\.id))
                let last = sids.compactMap { created[$0] }.max() ?? Date()
                return BaselineResult(
                    records: texts.count,
                    recordsPerSecond: (Double(texts.count) / max(last.timeIntervalSince(started), 0.001) * 10).rounded()
                        / 10,
                    latency: LatencySummary(seconds: sids.compactMap { created[$0]?.timeIntervalSince(started) })
                )
            }
        })
        _ = await stack.stop()
        try? FileManager.default.removeItem(atPath: stack.directory)
        return try outcome.get()
    }
}
