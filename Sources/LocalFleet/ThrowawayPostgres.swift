import Foundation
import Synchronization

/// A throwaway PostgreSQL server from Debian's packages (tests, benchmarks): a fresh cluster in a temporary directory, listening on a
/// free loopback port, removed on ``destroy()``. Runs as the `postgres` user when the tests run as root
/// (PostgreSQL refuses to run as root). Never assumes a server is already running.
public final class ThrowawayPostgres: Sendable {
    public let port: Int
    public let directory: String
    private let binaries: String
    private let process = Mutex<Process?>(nil)

    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Creates and starts a cluster.
    public init() async throws {
        guard let binaries = Self.findBinaries() else {
            throw Unavailable(
                description: "PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql)")
        }
        self.binaries = binaries
        self.port = freeLoopbackPort()
        self.directory = NSTemporaryDirectory() + "switchboard-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            try Self.run("/bin/chown", ["-R", "postgres:postgres", directory])
        }
        try Self.run(
            asPostgres: "\(binaries)/initdb",
            ["-D", "\(directory)/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        try await start()
    }

    /// The `DATABASE_URL` of a fresh database named `name` on this server.
    public func createDatabase(_ name: String) throws -> String {
        try Self.run(asPostgres: "\(binaries)/createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", name])
        return url(database: name)
    }

    public func url(database: String) -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Starts (or restarts) the server on the same port and data.
    public func start() async throws {
        let server = Process()
        if getuid() == 0 {
            server.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            server.arguments = ["-u", "postgres", "--", "\(binaries)/postgres"] + serverArguments
        } else {
            server.executableURL = URL(fileURLWithPath: "\(binaries)/postgres")
            server.arguments = serverArguments
        }
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        process.withLock { $0 = server }
        var ready = false
        for _ in 0..<300 where !ready {
            ready = (try? Self.run("\(binaries)/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-q"])) != nil
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard ready else { throw Unavailable(description: "PostgreSQL did not become ready on port \(port)") }
    }

    private var serverArguments: [String] {
        [
            "-D", "\(directory)/data", "-p", "\(port)", "-h", "127.0.0.1", "-k", directory,
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
            "max_connections=200",
        ]
    }

    /// Stops the server (fast shutdown: open connections are dropped, as in a crash of the database).
    public func stop() {
        guard let server = process.withLock({ $0 }) else { return }
        // The server runs under runuser; signal the postmaster itself through its pid file.
        if let pidText = try? String(contentsOfFile: "\(directory)/data/postmaster.pid", encoding: .utf8),
            let pid = Int32(pidText.split(separator: "\n").first ?? "")
        {
            kill(pid, SIGINT)
        } else {
            server.interrupt()
        }
        server.waitUntilExit()
        process.withLock { $0 = nil }
    }

    /// Stops the server and removes its files.
    public func destroy() {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func findBinaries() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.compactMap(Int.init).sorted() ?? []
        return versions.last.map { "\(root)/\($0)/bin" }
    }

    @discardableResult
    private static func run(asPostgres executable: String, _ arguments: [String]) throws -> String {
        getuid() == 0
            ? try run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
            : try run(executable, arguments)
    }

    @discardableResult
    private static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Unavailable(description: "\(executable) \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }
}
