import ArgumentParser
import Foundation
import Logging
import LocalFleet
import Sandbox
import SwitchboardStore
import OperatorKit
import SwitchboardBase

/// `switchboard-dev fleet`: the whole fleet on this machine with nothing to install, and a realistic scenario through it.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract:
            "Run the fleet locally (embedded broker, API sandbox, SQLite, the three workers) and play a demo scenario.",
        discussion: """
            Customers sign up and text in, agents reply in the sandbox's Gorgias, a customer texts STOP, another \
            HELP, an agent writes #optout, a blocked reply, an undeliverable number, a ticket closed and a text after \
            it. Progress goes to stderr; the summary (or --json) to stdout. Exit codes: 0 the sandbox holds what \
            the scenario expected, 1 the fleet failed, 2 the counts differ. With --keep-running everything stays up \
            until Ctrl-C: `source <dir>/env` points kcat and the CLI at it.
            """
    )

    @Flag(help: "Leave the fleet running after the scenario, until Ctrl-C.") var keepRunning = false
    @Option(help: "Sandbox port (0 picks a free one).") var sandboxPort = 0
    @Option(help: "Partitions per topic.") var partitions = 3
    @Flag(help: "Print the summary as JSON on stdout.") var json = false
    @Flag(help: "No progress lines.") var quiet = false

    func run() async throws {
        _ = try CLIEnvironment.load()
        let logger = {
            var logger = Logger(label: "switchboard-dev")
            logger.logLevel = .error
            return logger
        }()
        let started = ContinuousClock.now
        let progress = ScenarioProgress(enabled: !quiet)
        StandardError.line(quiet ? "" : "Starting the embedded broker, the sandbox, the ingress and three workers…")
        var sandbox = SandboxConfiguration()
        sandbox.port = sandboxPort
        sandbox.callbackDelayMs = 150
        let fleet = try LocalStack(
            name: "dev", partitions: partitions, topology: DemoAccount.topology, sandbox: sandbox, logger: logger)
        let location = try DatabaseURL(fleet.databaseURL, setting: "DATABASE_URL")
        let (json, keepRunning) = (self.json, self.keepRunning)
        let outcome: Result<ScenarioSummary, any Error> = await Result(catching: {
            try await Store.withStore(location, logger: logger) { store in
                try await fleet.startServers(store: store, logger: logger)
                let consent = try await fleet.connectThroughOAuth(DemoAccount.account, store: store)
                if !quiet {
                    StandardError.line(
                        "Connected \(DemoAccount.id) through Gorgias OAuth: consent approved at \(consent), tokens stored by the ingress' callback."
                    )
                }
                try fleet.writeEnvironmentFile()
                try fleet.startWorkers()
                try await fleet.waitUntilReady()
                let summary = try await Self.interruptible {
                    let watcher = Task { await progress.watch(fleet.workers) }
                    defer { watcher.cancel() }
                    try await DemoScenario(fleet: fleet, store: store, progress: progress).run()
                    return try await Self.summarize(fleet, seconds: (ContinuousClock.now - started).seconds)
                }
                if json { try JSONOutput.line(summary) } else { StandardOutput.line(summary.text) }
                if keepRunning {
                    StandardError.line("\nThe fleet keeps running; Ctrl-C stops it.")
                    await Signals.waitForTermination()
                }
                return summary
            }
        })
        if !quiet { StandardError.line("Stopping the workers…") }
        let exits = await fleet.stop()
        let unclean = exits.filter { $0.value != 0 }.map(\.key.rawValue).sorted()
        switch outcome {
        case .failure(let error as Interrupted):
            StandardError.line("\(error)")
            throw ExitCode(130)
        case .failure(let error):
            throw error
        case .success(let summary):
            if !unclean.isEmpty {
                throw CLIError.failed(
                    "workers that did not stop cleanly: \(unclean.joined(separator: ", ")); logs in \(fleet.directory)")
            }
            if !summary.matches { throw ExitCode(2) }
            try? FileManager.default.removeItem(atPath: fleet.directory)
        }
    }

    struct Interrupted: Error, CustomStringConvertible {
        var description: String { "interrupted; the fleet is shut down" }
    }

    /// Runs `body` until it returns or SIGINT/SIGTERM arrives.
    static func interruptible<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                await Signals.waitForTermination()
                return nil
            }
            defer { group.cancelAll() }
            guard let result = try await group.next(), let value = result else { throw Interrupted() }
            return value
        }
    }

    static func summarize(_ fleet: LocalStack, seconds: Double) async throws -> ScenarioSummary {
        let gorgias = try await fleet.control.get("/sandbox/gorgias/\(DemoAccount.id)")
        let twilio = try await fleet.control.get("/sandbox/twilio/\(DemoAccount.account.twilioSid)")
        var processed: [String: Int] = [:]
        var urls: [String: String] = [:]
        var deadLettered = 0
        for worker in fleet.workers {
            urls[worker.kind.rawValue] = "http://127.0.0.1:\(worker.metricsPort)/metrics"
            let text = await worker.metrics()
            processed[worker.kind.rawValue] = Int(metricSum(text, "switchboard_records_total"))
            deadLettered += Int(metricSum(text, "switchboard_dead_letters_total"))
        }
        return ScenarioSummary(
            sandboxURL: fleet.sandboxURL, seconds: seconds, counts: ScenarioCounts(gorgias: gorgias, twilio: twilio),
            expected: DemoScenario.expected, recordsProcessed: processed, metricsURLs: urls, deadLettered: deadLettered,
            environmentFile: fleet.directory + "/env"
        )
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
