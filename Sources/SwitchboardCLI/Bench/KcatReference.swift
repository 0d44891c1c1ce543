import Foundation
import Shared

/// Measures librdkafka's raw consumption rate with `kcat` reading the same topic: the ceiling for the runtime.
enum KcatReference {
    /// Consumes `topic` from the beginning until `count` records arrived; returns records/s between the first and
    /// the last record (start-up excluded, as for the runtime), or from launch when `fromLaunch` (for counts small
    /// enough to arrive in one read).
    static func consume(brokers: String, topic: String, count: Int, fromLaunch: Bool = false) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        process.arguments = ["-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\n"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let launched = ContinuousClock.now
        try process.run()
        var lines = 0
        var first: ContinuousClock.Instant?
        var last = ContinuousClock.now
        let handle = output.fileHandleForReading
        let stallGuard = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: stallGuard)
        defer { stallGuard.cancel() }
        while lines < count {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            let now = ContinuousClock.now
            if first == nil { first = now }
            lines += chunk.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            last = now
        }
        process.terminate()
        process.waitUntilExit()
        guard lines >= count, let first else {
            throw BenchmarkError("kcat read \(lines) of \(count) records")
        }
        return fromLaunch
            ? Double(count) / max((last - launched).seconds, 1e-6)
            : Double(count - 1) / max((last - first).seconds, 1e-6)
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
