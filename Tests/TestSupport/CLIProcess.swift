import Foundation
import Synchronization
import LocalFleet
import SwitchboardBase

/// A real command-line executable (`switchboard` unless told) run as an operator would: arguments, environment, exit
/// code, stdout, stderr.
public final class CLIProcess: @unchecked Sendable {
    /// The executables that take a command line (the workers are `WorkerProcess`).
    public enum Executable: String, Sendable, CaseIterable {
        /// The operators' command line.
        case operatorCLI = "switchboard"
        /// The developer tools: `fleet`, `bench`, `sandbox`, `broker`.
        case devTools = "switchboard-dev"
        case ingress = "switchboard-ingress"
        case console = "switchboard-console"
    }

    public let process = Process()
    private let stdout = Collected()
    private let stderr = Collected()

    /// Bytes read from a pipe so far; `ended` fires at end of file.
    final class Collected: Sendable {
        let bytes = Mutex<[UInt8]>([])
        let ended = AsyncEvent()
        func append(_ data: Data) { bytes.withLock { $0 += data } }
        var text: String { bytes.withLock { String(decoding: $0, as: UTF8.self) } }

        /// Reads `handle` on a thread of its own until end of file. (Not `readabilityHandler`: its dispatch source
        /// keeps firing at end of file, and a pipe closed while the source is registered can crash libdispatch's
        /// event loop on Linux, which took down a whole test run.)
        func drain(_ handle: FileHandle) {
            let thread = Thread { [self] in
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    append(data)
                }
                ended.signal()
            }
            thread.name = "cli-pipe-reader"
            thread.start()
        }
    }

    /// Starts `executable arguments…` with `environment` on top of this process's (minus its `KAFKA_*`).
    public init(_ arguments: [String], environment: [String: String] = [:], executable: Executable = .operatorCLI)
        throws
    {
        process.executableURL = URL(fileURLWithPath: WorkerProcess.binaries + "/" + executable.rawValue)
        process.arguments = arguments
        var values = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KAFKA_") }
        values.merge(environment) { _, new in new }
        process.environment = values
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        stdout.drain(out.fileHandleForReading)
        stderr.drain(err.fileHandleForReading)
    }

    public var output: String { stdout.text }
    public var errors: String { stderr.text }

    /// Waits for exit (SIGKILL after `timeout`); returns the exit code.
    @discardableResult
    public func wait(timeout: Duration = .seconds(120)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        // Let the pipes drain to end of file (bounded: a process it started may still hold them open).
        _ = await stdout.ended.wait(timeout: .seconds(5))
        _ = await stderr.ended.wait(timeout: .seconds(5))
        return process.terminationStatus
    }

    /// Sends `signal` (e.g. SIGINT for Ctrl-C).
    public func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Runs to completion: (exit code, stdout, stderr).
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], executable: Executable = .operatorCLI,
        timeout: Duration = .seconds(120)
    ) async throws -> (status: Int32, output: String, errors: String) {
        let cli = try CLIProcess(arguments, environment: environment, executable: executable)
        let status = await cli.wait(timeout: timeout)
        return (status, cli.output, cli.errors)
    }
}
