import Foundation

/// CPU time and peak memory of a running process, from `/proc` (Linux).
public struct ProcessUsage: Codable, Sendable {
    public var cpuSeconds: Double
    public var peakRSSMiB: Double
    /// Resident memory right now.
    public var rssMiB: Double = 0

    /// The usage of `pid` so far; nil when the process is gone.
    public static func of(_ pid: Int32) -> ProcessUsage? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let peakKiB =
            status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }?
            .split(separator: " ").compactMap { Double($0) }.first ?? 0
        let currentKiB =
            status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?
            .split(separator: " ").compactMap { Double($0) }.first ?? 0
        return ProcessUsage(
            cpuSeconds: (user + system) / ticks, peakRSSMiB: (peakKiB / 1024 * 10).rounded() / 10,
            rssMiB: currentKiB / 1024)
    }
}
