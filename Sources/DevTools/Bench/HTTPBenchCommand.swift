import ArgumentParser
import Foundation
import LocalFleet
import SwitchboardHTTP
import SwitchboardKafka
import SwitchboardSMS
import OperatorKit
import SwitchboardBase
import SwitchboardDomain

/// `switchboard-dev bench http`: requests/s and latency through the libcurl client against the sandbox
/// (a separate process) at several concurrency levels.
struct HTTPBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http", abstract: "HTTP client throughput and latency against the sandbox.")

    @Option(help: "Seconds per concurrency level.") var seconds = 5
    @Option(help: "Concurrency levels.") var concurrency: [Int] = [1, 16, 64, 256]
    @Option(help: "Write the results as JSON to this file.") var output: String?

    struct Level: Codable {
        var concurrency: Int
        var requestsPerSecond: Double
        var p50Ms: Double
        var p99Ms: Double
        var errors: Int
        var processThreads: Int
    }

    func run() async throws {
        let sandbox = try ChildProcess(WorkerProcess.binaries + "/switchboard-dev", ["sandbox"])
        defer { sandbox.stop() }
        let url = try sandbox.readValue("SANDBOX_URL")
        let http = HTTPClient()
        let sms = SMSClient(
            baseURL: url + "/twilio", accountSid: "AC" + String(repeating: "b", count: 32), authToken: "bench",
            http: http)
        let message = try await sms.send(to: "+15551234567", sender: .number("+15557654321"), body: "bench")
        let target = url + "/twilio/2010-04-01/Accounts/\(sms.accountSid)/Messages/\(message.sid).json"
        let authorization = "Basic " + Data("\(sms.accountSid):bench".utf8).base64EncodedString()
        var levels: [Level] = []
        for level in concurrency {
            let latencies = LatencyRecorder()
            let deadline = ContinuousClock.now + .seconds(seconds)
            let threads = ThreadSampler()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<level {
                    group.addTask {
                        while ContinuousClock.now < deadline {
                            let started = ContinuousClock.now
                            do {
                                let response = try await http.execute(
                                    APIRequest(
                                        url: target, headers: [("Authorization", authorization)], service: "bench"))
                                latencies.record(ContinuousClock.now - started, ok: response.status == 200)
                            } catch {
                                latencies.record(ContinuousClock.now - started, ok: false)
                            }
                        }
                    }
                }
                group.addTask { await threads.sample(until: deadline) }
                try await group.waitForAll()
            }
            let summary = latencies.summary(over: .seconds(seconds))
            levels.append(
                Level(
                    concurrency: level, requestsPerSecond: summary.rate, p50Ms: summary.p50, p99Ms: summary.p99,
                    errors: summary.errors, processThreads: threads.maximum))
            StandardError.line(
                "concurrency \(level): \(Int(summary.rate)) req/s, p50 \(summary.p50) ms, p99 \(summary.p99) ms, \(threads.maximum) threads"
            )
        }
        await http.shutdown()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = String(
            decoding: try encoder.encode([
                "machine": AnyEncodable(MachineDescription.current(librdkafka: Librdkafka.version)),
                "levels": AnyEncodable(levels),
            ]), as: UTF8.self)
        if let output { try json.write(toFile: output, atomically: true, encoding: .utf8) }
        StandardOutput.line(json)
    }
}

/// Collects request latencies.
final class LatencyRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [Double] = []
    private var failures = 0

    func record(_ duration: Duration, ok: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if ok { samples.append(duration.seconds * 1000) } else { failures += 1 }
    }

    func summary(over window: Duration) -> (rate: Double, p50: Double, p99: Double, errors: Int) {
        lock.lock()
        defer { lock.unlock() }
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return (sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 10).rounded() / 10
        }
        return (Double(sorted.count) / window.seconds, percentile(0.5), percentile(0.99), failures)
    }
}

/// Samples this process's thread count (from /proc) while a benchmark runs.
final class ThreadSampler: @unchecked Sendable {
    private(set) var maximum = 0

    func sample(until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline {
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Threads:") }),
                let count = Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces))
            {
                maximum = max(maximum, count)
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// Type erasure for heterogeneous JSON output.
struct AnyEncodable: Encodable {
    let encodeValue: (any Encoder) throws -> Void
    init<T: Encodable>(_ value: T) { encodeValue = value.encode }
    func encode(to encoder: any Encoder) throws { try encodeValue(encoder) }
}
