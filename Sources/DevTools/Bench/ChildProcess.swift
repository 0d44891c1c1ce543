import Foundation

/// A child process started by the CLI (sandbox, broker, workers) whose first `KEY=value` line is awaited.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()

    /// Starts `executable` with `arguments`; stderr goes to `log` (or is discarded).
    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, log: FileHandle? = nil)
        throws
    {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = output
        process.standardError = log ?? FileHandle.nullDevice
        try process.run()
    }

    /// The value of the first stdout line starting with `key=`.
    func readValue(_ key: String, timeout: Duration = .seconds(30)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        var buffer = ""
        let handle = output.fileHandleForReading
        while ContinuousClock.now < deadline {
            let data = handle.availableData
            if data.isEmpty { break }
            buffer += String(decoding: data, as: UTF8.self)
            if let line = buffer.split(separator: "\n").first(where: { $0.hasPrefix(key + "=") }) {
                return String(line.dropFirst(key.count + 1))
            }
        }
        throw ChildProcessError("\(process.executableURL?.lastPathComponent ?? "child") did not print \(key)")
    }

    /// SIGTERM, then wait.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

struct ChildProcessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
