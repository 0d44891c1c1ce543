import Foundation

/// A Tansu broker (an independent Kafka-compatible broker, in memory) on a free loopback port, as a child process.
/// Tansu serves cooperative-sticky groups, commits, static membership, the idempotent producer, CreateTopics and
/// the group listings; its gaps are in the README (Compatibility).
public final class TansuBroker: @unchecked Sendable {
    public let bootstrapServers: String
    public let logPath: String
    private let process = Process()

    public init(executable: String = KafkaCompat.tansu) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw FleetError(description: "no Tansu at \(executable); run scripts/install-deps")
        }
        let port = freeLoopbackPort()
        bootstrapServers = "127.0.0.1:\(port)"
        logPath = NSTemporaryDirectory() + "tansu-\(port)-\(UUID().uuidString.prefix(6)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "broker", "--listener-url", "tcp://\(bootstrapServers)", "--advertised-listener-url",
            "tcp://\(bootstrapServers)",
            "--storage-engine", "memory://tansu/",
        ]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = process.standardOutput
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !loopbackPortAccepts(port) {
            guard Date() < deadline, process.isRunning else {
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8))?.suffix(500) ?? ""
                throw FleetError(description: "Tansu did not start on \(bootstrapServers): \(log)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    deinit { stop() }

    /// Kills the broker (its data lives in memory and is gone).
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
