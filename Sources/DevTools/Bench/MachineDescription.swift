import Foundation

/// What the benchmark ran on, recorded next to every result.
struct MachineDescription: Codable {
    var cpu: String
    var cores: Int
    var memoryGiB: Double
    var os: String
    var librdkafka: String

    static func current(librdkafka: String) -> MachineDescription {
        let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuInfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown"
        let osRelease = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        let os =
            osRelease.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }?
            .dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) ?? "unknown"
        return MachineDescription(
            cpu: model,
            cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryGiB: (Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824 * 10).rounded() / 10,
            os: os,
            librdkafka: librdkafka
        )
    }

    var summary: String { "\(cpu), \(cores) cores, \(memoryGiB) GiB, \(os), librdkafka \(librdkafka)" }
}
