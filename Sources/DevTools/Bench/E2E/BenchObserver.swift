import Foundation
import LocalFleet
import Sandbox
import SwitchboardBase
import SwitchboardGorgias
import SwitchboardJSON

/// What the benchmark reads back: effects in the sandbox (with their creation times) and the workers' metrics.
struct BenchObserver {
    let stack: LocalStack

    /// Customer messages imported into Gorgias, by external id (the SMS message id), with their creation time.
    func importedMessages(_ accounts: [String]) async throws -> [String: Date] {
        var created: [String: Date] = [:]
        for account in accounts {
            let tickets = try await stack.control.get("/sandbox/gorgias/\(account)")["tickets"]?.arrayValue ?? []
            for message in tickets.flatMap({ $0["messages"]?.arrayValue ?? [] }) where message["from_agent"] == false {
                guard let id = message["external_id"]?.stringValue,
                    let at = message["created_datetime"]?.stringValue.flatMap(GorgiasDate.parse)
                else { continue }
                created[id] = at
            }
        }
        return created
    }

    /// SMS sent by Switchboard (`outbound-api`) per recipient, with creation times.
    func sentSMS(_ accounts: [LocalAccount]) async throws -> [String: [Date]] {
        var sent: [String: [Date]] = [:]
        for account in accounts {
            let messages =
                try await stack.control.get("/sandbox/twilio/\(account.twilioSid)")["messages"]?.arrayValue ?? []
            for message in messages where message["direction"] == "outbound-api" {
                guard let to = message["to"]?.stringValue,
                    let at = message["sandbox_created_at"]?.stringValue.flatMap(RFC3339.parse)
                else { continue }
                sent[to, default: []].append(at)
            }
        }
        return sent
    }

    /// Gorgias calls answered (not refused with 429) per operation, summed over `accounts`.
    func gorgiasCalls(_ accounts: [String]) async throws -> [String: Int] {
        let state = try await stack.control.get("/sandbox/state")
        var calls: [String: Int] = [:]
        for account in accounts {
            for (operation, count) in state["gorgias"]?[account]?["callsByOperation"]?.objectValue ?? [:] {
                calls[operation, default: 0] += Int(count.intValue ?? 0)
            }
        }
        return calls
    }

    /// A metric summed over every worker of `kind`.
    func metric(_ kind: WorkerProcess.Kind, _ name: String, matching: String = "") async -> Double {
        var total = 0.0
        for worker in stack.workers where worker.kind == kind {
            total += metricSum(await worker.metrics(), name, matching: matching)
        }
        return total
    }

    /// The metrics text of every worker of `kind`, concatenated (histograms sum across processes).
    func metricsText(_ kind: WorkerProcess.Kind) async -> String {
        var text = ""
        for worker in stack.workers where worker.kind == kind { text += await worker.metrics() + "\n" }
        return text
    }

    /// The CPU seconds, store statements and store transactions of every worker of `kind` so far.
    func costSnapshot(_ kind: WorkerProcess.Kind) async -> (cpu: Double, statements: Double, transactions: Double) {
        let cpu = stack.workers.filter { $0.kind == kind }
            .compactMap { ProcessUsage.of($0.processIdentifier)?.cpuSeconds }.reduce(0, +)
        return (
            cpu, await metric(kind, "switchboard_store_statements_total"),
            await metric(kind, "switchboard_store_transactions_total")
        )
    }

    /// What the workers of `kind` spent per record on `records` records since `before` (a ``costSnapshot(_:)``).
    func cost(
        _ kind: WorkerProcess.Kind, since before: (cpu: Double, statements: Double, transactions: Double), records: Int
    ) async -> WorkerCost {
        let now = await costSnapshot(kind)
        let count = Double(max(records, 1))
        func rounded(_ value: Double, _ places: Double) -> Double { (value * places).rounded() / places }
        return WorkerCost(
            cpuMsPerRecord: rounded((now.cpu - before.cpu) * 1000 / count, 1000),
            storeStatementsPerRecord: rounded((now.statements - before.statements) / count, 100),
            storeTransactionsPerRecord: rounded((now.transactions - before.transactions) / count, 100)
        )
    }

    /// p50 and p99 of the handler time of every record of `topic` the workers of `kind` finished so far.
    func handlerTime(_ kind: WorkerProcess.Kind, topic: String) async -> LatencySummary {
        let text = await metricsText(kind)
        let name = "switchboard_handler_duration_seconds"
        return LatencySummary(
            p50Seconds: histogramQuantile(text, name, 0.5, matching: "topic=\"\(topic)\""),
            p99Seconds: histogramQuantile(text, name, 0.99, matching: "topic=\"\(topic)\""),
            count: Int(metricSum(text, name + "_count", matching: "topic=\"\(topic)\"")))
    }

    /// Waits until `condition` holds, polling every 200 ms; throws after `timeout` naming `what`.
    func wait(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw BenchmarkError(
            "timed out after \(DurationText.format(timeout)) waiting for \(what); worker logs: \(stack.directory)")
    }
}

extension Sequence where Element: Sendable {
    /// Runs `body` for every element with at most `width` at a time.
    func concurrentForEach(width: Int, _ body: @escaping @Sendable (Element) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for element in self {
                if running == width {
                    try await group.next()
                    running -= 1
                }
                group.addTask { try await body(element) }
                running += 1
            }
            try await group.waitForAll()
        }
    }
}
