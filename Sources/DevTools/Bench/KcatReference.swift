import Foundation
import SwitchboardBase

/// Measures librdkafka's raw consumption rate with `kcat` reading the same topic: the ceiling for the runtime.
enum KcatReference {
    /// What one `kcat` read measured.
    struct Reading {
        var recordsPerSecond: Double
        /// kcat's CPU (user + system, start-up included) per record read.
        var cpuMsPerRecord: Double
    }

    /// Consumes `topic` from the beginning until `count` records arrived; returns records/s between the first and
    /// the last record (start-up excluded, as for the runtime), or from launch when `fromLaunch` (for counts small
    /// enough to arrive in one read).
    static func consume(brokers: String, topic: String, count: Int, fromLaunch: Bool = false) throws -> Double {
        try read(brokers: brokers, topic: topic, count: count, fromLaunch: fromLaunch).recordsPerSecond
    }

    /// ``consume(brokers:topic:count:fromLaunch:)`` with kcat's CPU per record beside the rate.
    static func read(brokers: String, topic: String, count: Int, fromLaunch: Bool = false) throws -> Reading {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        process.arguments = ["-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\n"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let childrenBefore = Self.childrenCPUSeconds()
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
        // kcat is reaped by now: its CPU is in this process's children's usage, which grew by it alone.
        let cpuSeconds = Self.childrenCPUSeconds() - childrenBefore
        guard lines >= count, let first else {
            throw BenchmarkError("kcat read \(lines) of \(count) records")
        }
        let rate =
            fromLaunch
            ? Double(count) / max((last - launched).seconds, 1e-6)
            : Double(count - 1) / max((last - first).seconds, 1e-6)
        return Reading(recordsPerSecond: rate, cpuMsPerRecord: cpuSeconds * 1000 / Double(count))
    }
}

extension KcatReference {
    /// User + system CPU of this process's children that have been waited for.
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
