import Foundation
import Synchronization

/// A real worker executable (`InboundWorker`, `OutboundWorker`, `StatusWorker`) started as a child process, as in
/// production (`switchboard-dev fleet` and the end-to-end tests). Its stderr goes to a log file.
public final class WorkerProcess: @unchecked Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case inbound = "InboundWorker"
        case outbound = "OutboundWorker"
        case status = "StatusWorker"
    }

    public let kind: Kind
    /// The static group member id (`group.instance.id`) this process consumes under; a replacement started with the
    /// same id takes the partitions back at once instead of waiting out the session timeout.
    public let instanceId: String?
    public let logPath: String
    private let boundPort = Mutex<Int?>(nil)
    private let process = Process()

    /// The directory holding the built executables (next to the running one: the CLI or the test bundle).
    public static var binaries: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    /// Starts the executable with `environment` on top of this process's (minus its `KAFKA_*`), `METRICS_PORT=0` (the
    /// worker binds a free port itself and logs it: a port picked here could be taken by another process before the
    /// worker binds it) and JSON logs written to a file in `logDirectory`; with `instanceId`, as that static group
    /// member.
    public init(
        _ kind: Kind, instanceId: String? = nil, environment: [String: String],
        logDirectory: String = NSTemporaryDirectory()
    ) throws {
        self.kind = kind
        self.instanceId = instanceId
        self.logPath =
            (logDirectory.hasSuffix("/") ? logDirectory : logDirectory + "/")
            + "\(kind.rawValue)-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "\(Self.binaries)/\(kind.rawValue)")
        var values = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KAFKA_") }
        values.merge(environment) { _, new in new }
        // The bound port is read from a notice line (``metricsPort``): a quieter level would hide it.
        if let level = values["LOG_LEVEL"]?.lowercased(), ["warning", "error", "critical"].contains(level) {
            throw FleetError(
                description: "LOG_LEVEL=\(level) hides the line with the worker's metrics port; use notice or lower")
        }
        values["METRICS_PORT"] = "0"
        if let instanceId { values["KAFKA_GROUP_INSTANCE_ID"] = instanceId }
        values["LOG_FORMAT"] = "json"
        process.environment = values
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
    }

    deinit {
        if process.isRunning { process.interrupt(); kill(process.processIdentifier, SIGKILL) }
    }

    /// The static member id of the `index`th process of `kind` in a local fleet.
    public static func instanceId(_ kind: Kind, _ index: Int) -> String { "\(kind.rawValue)-\(index)" }

    public var isRunning: Bool { process.isRunning }
    public var processIdentifier: Int32 { process.processIdentifier }
    public var exitCode: Int32 { process.terminationStatus }
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends SIGTERM and waits up to `timeout`; returns the exit code, or nil if it did not exit.
    @discardableResult
    public func terminate(timeout: Duration = .seconds(40)) async -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        return await waitForExit(timeout: timeout)
    }

    /// Sends `signal` without waiting.
    public func send(_ signal: Int32) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    /// SIGKILL: a crash, nothing committed beyond what already was.
    public func kill9() async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        _ = await waitForExit(timeout: .seconds(10))
    }

    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// The port the worker's `/metrics`, `/healthz` and `/readyz` listen on, read from its log once it has bound it
    /// (0 until then).
    public var metricsPort: Int {
        if let port = boundPort.withLock({ $0 }) { return port }
        guard let log = try? String(contentsOfFile: logPath, encoding: .utf8),
            let line = log.split(separator: "\n").first(where: {
                $0.contains("\"msg\":\"metrics and health endpoints listening\"")
            }),
            let range = line.range(of: "\"port\":\""),
            let port = Int(line[range.upperBound...].prefix { $0.isNumber })
        else { return 0 }
        boundPort.withLock { $0 = port }
        return port
    }

    /// `switchboard_account_health` of `account` as the worker exports it, by check (empty: no series).
    public func accountHealth(_ account: String) async -> [String: Double] {
        var checks: [String: Double] = [:]
        for line in await metrics().split(separator: "\n")
        where line.hasPrefix("switchboard_account_health{") && line.contains(#"account="\#(account)""#) {
            guard let start = line.range(of: #"check=""#), let value = Double(line.split(separator: " ").last ?? "")
            else { continue }
            checks[String(line[start.upperBound...].prefix { $0 != "\"" })] = value
        }
        return checks
    }

    /// The worker's `/metrics` text.
    public func metrics() async -> String {
        (try? await httpGet("http://127.0.0.1:\(metricsPort)/metrics").body) ?? ""
    }

    /// Waits until `/readyz` answers 200 (in a stable consumer group).
    public func waitUntilReady(timeout: Duration = .seconds(60)) async -> Bool {
        await eventually(timeout: timeout, every: .milliseconds(200)) {
            (try? await httpGet("http://127.0.0.1:\(self.metricsPort)/readyz").status) == 200
        }
    }
}
