import ArgumentParser
import Foundation
import Logging
import LocalFleet
import SwitchboardKafka
import SwitchboardStore
import OperatorKit
import SwitchboardBase

/// `switchboard-dev bench store`: ledger check+record and token-take operations per second on SQLite and on a
/// throwaway PostgreSQL, with concurrent tasks in one process.
struct StoreBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Store throughput: ledger check+record and rate-limit token takes, both backends.")

    @Option(help: "Seconds per measurement.") var seconds = 5
    @Option(help: "Concurrent tasks.") var tasks = 16
    @Option(help: "Write the results as JSON to this file.") var output: String?

    struct Row: Codable {
        var backend: String
        var ledgerChecksAndRecordsPerSecond: Double
        var tokenTakesPerSecond: Double
    }

    func run() async throws {
        var rows: [Row] = []
        let sqlitePath = NSTemporaryDirectory() + "bench-store-\(UUID().uuidString.prefix(6)).sqlite"
        rows.append(try await measure("sqlite", .sqlite(path: sqlitePath)))
        let postgres = try await ThrowawayPostgres()
        defer { postgres.destroy() }
        rows.append(try await measure("postgres", try DatabaseURL(try postgres.createDatabase("bench"))))
        for row in rows {
            StandardError.line(
                "\(row.backend): \(Int(row.ledgerChecksAndRecordsPerSecond)) ledger check+record/s, \(Int(row.tokenTakesPerSecond)) token takes/s"
            )
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = String(
            decoding: try encoder.encode([
                "machine": AnyEncodable(MachineDescription.current(librdkafka: Librdkafka.version)),
                "tasks": AnyEncodable(tasks), "rows": AnyEncodable(rows),
            ]), as: UTF8.self)
        if let output { try json.write(toFile: output, atomically: true, encoding: .utf8) }
        StandardOutput.line(json)
    }

    private func measure(_ name: String, _ location: DatabaseURL) async throws -> Row {
        let duration = Duration.seconds(seconds)
        let tasks = self.tasks
        return try await Store.withStore(location, logger: Logger(label: "bench")) { store in
            let ledger = try await Self.rate(tasks: tasks, duration: duration) { task, index in
                let id = "bench-\(task)-\(index)"
                _ = try await store.lookup(group: "bench", eventId: id)
                _ = try await store.record(
                    LedgerEntry(group: "bench", eventId: id, outcome: .processed, fingerprint: "f"))
            }
            let tokens = try await Self.rate(tasks: tasks, duration: duration) { task, _ in
                _ = try await store.takeToken(bucket: "bench:\(task % 4)", capacity: 1e12, refillPerSecond: 1e9)
            }
            return Row(
                backend: name, ledgerChecksAndRecordsPerSecond: ledger.rounded(), tokenTakesPerSecond: tokens.rounded())
        }
    }

    /// Runs `operation` in `tasks` concurrent loops for `duration`; returns operations per second.
    static func rate(tasks: Int, duration: Duration, _ operation: @escaping @Sendable (Int, Int) async throws -> Void)
        async throws -> Double
    {
        let started = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var count = 0
                    while ContinuousClock.now - started < duration {
                        try await operation(task, count)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / (ContinuousClock.now - started).seconds
    }
}
