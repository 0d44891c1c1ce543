import Foundation
import LocalFleet
import OperatorKit

/// What one store's end-to-end run measured.
struct E2EStoreResult: Codable, Sendable {
    /// One round of customers' texts: every conversation's first text, or the threaded texts after them.
    struct Inbound: Codable, Sendable {
        var records: Int
        var imported: Int
        var recordsPerSecond: Double
        /// Event time → the message visible in the sandbox's Gorgias.
        var latency: LatencySummary
        var gorgiasCallsPerText: Double
        /// Gorgias calls answered in this phase, by operation.
        var gorgiasCalls: [String: Int]
        /// min(in-flight window, conversations) ÷ (API latency × calls per text): what the worker could reach if it
        /// only waited on the API (a conversation's texts go one after the other).
        var boundRecordsPerSecond: Double
        var shareOfBound: Double
        var rateLimitWaits: Int
        var cost: WorkerCost
        /// A record's start to its outcome (`switchboard_handler_duration_seconds`, every inbound record so far):
        /// the API latency plus what the worker adds around it.
        var handlerTime: LatencySummary
        /// The phase's start to each conversation's first text of the phase in Gorgias (how soon every lane runs).
        var laneStart: LatencySummary
        /// Between two consecutive texts of one conversation reaching Gorgias (a lane's step: the API latency plus
        /// the worker's time around it).
        var laneStep: LatencySummary
    }

    struct Outbound: Codable, Sendable {
        var records: Int
        var smsSent: Int
        var recordsPerSecond: Double
        /// The agent's reply → the SMS visible in the sandbox's Twilio.
        var latency: LatencySummary
        var gorgiasCallsPerReply: Double
        var cost: WorkerCost
    }

    struct Status: Codable, Sendable {
        var records: Int
        var recordsPerSecond: Double
        /// Record age at completion (the StatusWorker's effects are store updates), from its histogram.
        var eventAge: LatencySummary
        var cost: WorkerCost
    }

    struct Hot: Codable, Sendable {
        var seconds: Int
        var hotTexts: Int
        var hotImportedDuringPhase: Int
        var otherTexts: Int
        var otherLatency: LatencySummary
        var rateLimitWaits: Int
        var deferredToRetryTier: Int
    }

    struct ProcessFigures: Codable, Sendable {
        var worker: String
        var usage: ProcessUsage?
    }

    var store: String
    var firstTexts: Inbound
    var threadedTexts: Inbound
    var outbound: Outbound
    var status: Status
    var hot: Hot
    var processes: [ProcessFigures]
    var kcatRecordsPerSecond: Double
    var kcatCPUMsPerRecord: Double
}

/// What a phase cost the workers of one type, per record: process CPU (user + system) and store round trips, as
/// the differences of `/proc` and of their metrics before and after it (background work in that time included).
struct WorkerCost: Codable, Sendable {
    var cpuMsPerRecord: Double
    var storeStatementsPerRecord: Double
    var storeTransactionsPerRecord: Double
}

/// The one-record-at-a-time reference: the same InboundWorker with MAX_IN_FLIGHT=1, timed on threaded texts.
struct BaselineResult: Codable, Sendable {
    var records: Int
    var recordsPerSecond: Double
    var latency: LatencySummary
}

/// Everything `bench e2e` writes to its JSON file.
struct E2EBenchReport: Codable, Sendable {
    var machine: MachineDescription
    var options: E2EBenchOptions
    var runs: [E2EStoreResult]
    var baseline: BaselineResult?

    /// The README's table, then each target of the benchmark beside its figure and reference.
    var table: String {
        var rows: [[String]] = []
        for run in runs {
            for (name, phase) in [("first texts", run.firstTexts), ("threaded texts", run.threadedTexts)] {
                rows.append([
                    "\(run.store) inbound, \(name)", "\(Int(phase.recordsPerSecond))/s",
                    "\(phase.latency.p50Ms) / \(phase.latency.p99Ms) / \(phase.latency.maxMs)",
                    "\(phase.gorgiasCallsPerText) per text",
                    "\(Int(phase.shareOfBound * 100))% of bound \(Int(phase.boundRecordsPerSecond))/s; "
                        + "\(phase.cost.summary) per text; handler p50 \(phase.handlerTime.p50Ms) ms; "
                        + "lanes start p50 \(phase.laneStart.p50Ms) ms, step p50 \(phase.laneStep.p50Ms) ms",
                ])
            }
            rows.append([
                "\(run.store) outbound", "\(Int(run.outbound.recordsPerSecond))/s",
                "\(run.outbound.latency.p50Ms) / \(run.outbound.latency.p99Ms) / \(run.outbound.latency.maxMs)",
                "\(run.outbound.gorgiasCallsPerReply) per reply",
                "\(run.outbound.smsSent) SMS for \(run.outbound.records) replies; \(run.outbound.cost.summary) per reply",
            ])
            rows.append([
                "\(run.store) status", "\(Int(run.status.recordsPerSecond))/s",
                "\(run.status.eventAge.p50Ms) / \(run.status.eventAge.p99Ms) / -", "0",
                "\(run.status.cost.summary) per event",
            ])
            rows.append([
                "\(run.store) hot account", "\(run.hot.hotTexts) hot texts in \(run.hot.seconds) s",
                "others: \(run.hot.otherLatency.p50Ms) / \(run.hot.otherLatency.p99Ms) / \(run.hot.otherLatency.maxMs)",
                "",
                "\(run.hot.rateLimitWaits) rate-limit waits, \(run.hot.deferredToRetryTier) deferred",
            ])
        }
        if let baseline {
            rows.append([
                "baseline (one at a time), threaded texts", "\(Int(baseline.recordsPerSecond))/s",
                "\(baseline.latency.p50Ms) / \(baseline.latency.p99Ms) / \(baseline.latency.maxMs)", "", "",
            ])
        }
        let usage = runs.flatMap { run in
            run.processes.map {
                "\(run.store) \($0.worker): \($0.usage.map { String(format: "%.1f CPU s, %.0f MiB peak", $0.cpuSeconds, $0.peakRSSMiB) } ?? "-")"
            }
        }
        return TextTable.render(["run", "records/s", "latency ms p50 / p99 / max", "Gorgias calls", "notes"], rows)
            + "\n\n" + usage.joined(separator: "\n") + "\n\n" + targets.joined(separator: "\n")
    }

    /// Each target of issue 18's list with this run's figure and the reference measured beside it.
    var targets: [String] {
        var lines: [String] = []
        func mark(_ holds: Bool) -> String { holds ? "holds" : "missed" }
        for run in runs {
            let kcat = String(format: "kcat %.4f ms per record", run.kcatCPUMsPerRecord)
            let threaded = run.threadedTexts
            lines += [
                "\(run.store): InboundWorker CPU per threaded text \(Self.ms(threaded.cost.cpuMsPerRecord)) (target ≤ 0.4 ms, "
                    + "\(mark(threaded.cost.cpuMsPerRecord <= 0.4))); \(kcat)",
                "\(run.store): OutboundWorker CPU per reply \(Self.ms(run.outbound.cost.cpuMsPerRecord)) (target ≤ 0.5 ms, "
                    + "\(mark(run.outbound.cost.cpuMsPerRecord <= 0.5))); \(kcat)",
                "\(run.store): StatusWorker CPU per event \(Self.ms(run.status.cost.cpuMsPerRecord)) (target ≤ 0.2 ms, "
                    + "\(mark(run.status.cost.cpuMsPerRecord <= 0.2))); \(kcat)",
                "\(run.store): store statements per threaded text \(threaded.cost.storeStatementsPerRecord) in "
                    + "\(threaded.cost.storeTransactionsPerRecord) write transactions (target ≤ 4 in ≤ 1, "
                    + "\(mark(threaded.cost.storeStatementsPerRecord <= 4 && threaded.cost.storeTransactionsPerRecord <= 1)))",
                "\(run.store): threaded texts \(Int(threaded.recordsPerSecond))/s = \(Int(threaded.shareOfBound * 100))% of "
                    + "the in-flight bound \(Int(threaded.boundRecordsPerSecond))/s (target ≥ 70% at 200 ms, ≥ 40% at 50 ms)"
                    + (baseline.map {
                        String(
                            format: "; %.1f× the one-at-a-time baseline's %.0f/s (target ≥ 20×)",
                            threaded.recordsPerSecond / max($0.recordsPerSecond, 0.001), $0.recordsPerSecond)
                    } ?? ""),
                "\(run.store): Gorgias calls per first text \(run.firstTexts.gorgiasCallsPerText) (target ≤ 3, "
                    + "\(mark(run.firstTexts.gorgiasCallsPerText <= 3))), per threaded text \(threaded.gorgiasCallsPerText) "
                    + "(target 1.0)",
                "\(run.store): peak RSS "
                    + run.processes.map {
                        "\($0.worker) \($0.usage.map { String(format: "%.0f", $0.peakRSSMiB) } ?? "-") MiB"
                    }
                    .joined(separator: ", ")
                    + " (target ≤ 100 MiB, \(mark(run.processes.allSatisfy { ($0.usage?.peakRSSMiB ?? .infinity) <= 100 })))",
            ]
        }
        return lines
    }

    private static func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
}

extension WorkerCost {
    /// "1.23 ms CPU, 9.0 statements in 1.0 transactions".
    var summary: String {
        String(
            format: "%.2f ms CPU, %.1f statements in %.1f transactions", cpuMsPerRecord, storeStatementsPerRecord,
            storeTransactionsPerRecord)
    }
}
