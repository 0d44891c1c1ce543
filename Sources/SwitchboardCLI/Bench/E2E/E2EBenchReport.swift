import Foundation
import LocalFleet

/// What one store's end-to-end run measured.
struct E2EStoreResult: Codable, Sendable {
    struct Inbound: Codable, Sendable {
        var records: Int
        var imported: Int
        var recordsPerSecond: Double
        /// Event time → the message visible in the sandbox's Gorgias.
        var latency: LatencySummary
        var gorgiasCallsPerText: Double
        var gorgiasCallsPerThreadedText: Double
        var gorgiasCallsPerFirstText: Double
        /// In-flight records ÷ (API latency × calls per text).
        var boundRecordsPerSecond: Double
        var shareOfBound: Double
        var rateLimitWaits: Int
    }

    struct Outbound: Codable, Sendable {
        var records: Int
        var smsSent: Int
        var recordsPerSecond: Double
        /// The agent's reply → the SMS visible in the sandbox's Twilio.
        var latency: LatencySummary
        var gorgiasCallsPerReply: Double
    }

    struct Status: Codable, Sendable {
        var records: Int
        var recordsPerSecond: Double
        /// Record age at completion (the StatusWorker's effects are store updates), from its histogram.
        var eventAge: LatencySummary
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
    var inbound: Inbound
    var outbound: Outbound
    var status: Status
    var hot: Hot
    var processes: [ProcessFigures]
    var kcatRecordsPerSecond: Double
}

/// The one-record-at-a-time reference: the same InboundWorker with MAX_IN_FLIGHT=1.
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

    /// The README's table.
    var table: String {
        var rows: [[String]] = []
        for run in runs {
            let speedup =
                baseline.map { String(format: "%.0f×", run.inbound.recordsPerSecond / max($0.recordsPerSecond, 0.001)) }
                ?? "-"
            rows.append([
                "\(run.store) inbound", "\(Int(run.inbound.recordsPerSecond))/s",
                "\(run.inbound.latency.p50Ms) / \(run.inbound.latency.p99Ms) / \(run.inbound.latency.maxMs)",
                "\(run.inbound.gorgiasCallsPerThreadedText) threaded, \(run.inbound.gorgiasCallsPerFirstText) first",
                "\(Int(run.inbound.shareOfBound * 100))% of \(Int(run.inbound.boundRecordsPerSecond))/s; kcat \(Int(run.kcatRecordsPerSecond))/s; \(speedup) baseline",
            ])
            rows.append([
                "\(run.store) outbound", "\(Int(run.outbound.recordsPerSecond))/s",
                "\(run.outbound.latency.p50Ms) / \(run.outbound.latency.p99Ms) / \(run.outbound.latency.maxMs)",
                "\(run.outbound.gorgiasCallsPerReply) per reply",
                "\(run.outbound.smsSent) SMS for \(run.outbound.records) replies",
            ])
            rows.append([
                "\(run.store) status", "\(Int(run.status.recordsPerSecond))/s",
                "\(run.status.eventAge.p50Ms) / \(run.status.eventAge.p99Ms) / -", "0", "",
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
                "baseline (one at a time)", "\(Int(baseline.recordsPerSecond))/s",
                "\(baseline.latency.p50Ms) / \(baseline.latency.p99Ms) / \(baseline.latency.maxMs)", "", "",
            ])
        }
        let usage = runs.flatMap { run in
            run.processes.map {
                "\(run.store) \($0.worker): \($0.usage.map { String(format: "%.1f CPU s, %.0f MiB peak", $0.cpuSeconds, $0.peakRSSMiB) } ?? "-")"
            }
        }
        return TextTable.render(["run", "records/s", "latency ms p50 / p99 / max", "Gorgias calls", "notes"], rows)
            + "\n\n" + usage.joined(separator: "\n")
    }
}
