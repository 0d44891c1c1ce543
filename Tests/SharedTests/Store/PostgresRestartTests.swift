import Foundation
import Logging
import Synchronization
import Testing
import LocalFleet
import SwitchboardStore
import TestSupport

/// A PostgreSQL restart while many tasks query and write: every call either succeeds or fails with a retryable
/// error promptly, and once the server is back every task makes progress again. A call that hangs would stall its
/// record (and every later record of its key) for good.
@Suite("PostgreSQL restart under load", .usesPostgres, .timeLimit(.minutes(5)))
struct PostgresRestartTests {
    @Test("no store call hangs across a server restart; every task makes progress afterwards")
    func restartUnderLoad() async throws {
        let server = try #require(ThrowawayPostgres.current)
        let url = try freshDatabaseURL(.postgres)
        try await Store.withStore(url, logger: Logger(label: "restart-test")) { store in
            let board = ProgressBoard()
            let workers = Task {
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<24 {
                        group.addTask {
                            var round = 0
                            while !Task.isCancelled {
                                round += 1
                                let started = ContinuousClock.now
                                do {
                                    try await Self.oneUnitOfWork(store, worker: worker, round: round)
                                    board.moved(worker)
                                } catch {
                                    try? await Task.sleep(for: .milliseconds(50))
                                }
                                board.took(ContinuousClock.now - started)
                            }
                        }
                    }
                }
            }
            for _ in 0..<3 {
                try await Task.sleep(for: .seconds(2))
                server.stop()
                try await Task.sleep(for: .seconds(3))
                try await server.start()
                let restarted = ContinuousClock.now
                let everyoneMoved = await eventually(timeout: .seconds(40)) {
                    board.stuck(since: restarted, of: 24).isEmpty
                }
                let stuck = board.stuck(since: restarted, of: 24)
                #expect(everyoneMoved, "tasks without progress 40 s after the restart: \(stuck)")
            }
            workers.cancel()
            await workers.value
            let longest = board.longestCall
            #expect(longest < PostgresDatabase.callTimeout + .seconds(5), "a store call took \(longest)")
        }
    }

    /// Reads and writes the way a worker does: a ledger lookup, a parking round trip and a domain transaction.
    static func oneUnitOfWork(_ store: Store, worker: Int, round: Int) async throws {
        let eventId = "restart-\(worker)-\(round)"
        _ = try await store.lookup(group: "restart", eventId: eventId)
        try await store.park(
            group: "restart", key: "key-\(worker)", eventId: eventId, topic: "t.retry.1s", dueAt: Date())
        _ = try await store.head(group: "restart", key: "key-\(worker)")
        try await store.release(group: "restart", key: "key-\(worker)", eventId: eventId)
        try await store.database.transaction { executor in
            try await executor.query(
                "INSERT INTO effects (account_id, effect_key, state, started_at) VALUES (?, ?, 'started', ?)",
                "restart", eventId, Int64(round)
            )
            try await executor.query(
                "UPDATE effects SET state = 'done' WHERE account_id = ? AND effect_key = ?", "restart", eventId)
        }
    }
}

/// When each task last finished a unit of work, and the longest single attempt.
private final class ProgressBoard: Sendable {
    private let lastProgress = Mutex<[Int: ContinuousClock.Instant]>([:])
    private let longest = Mutex<Duration>(.zero)

    func moved(_ worker: Int) { lastProgress.withLock { $0[worker] = .now } }
    func took(_ duration: Duration) { longest.withLock { $0 = max($0, duration) } }
    var longestCall: Duration { longest.withLock { $0 } }

    /// The tasks (of `0..<count`) that have not finished a unit of work since `instant`.
    func stuck(since instant: ContinuousClock.Instant, of count: Int) -> [Int] {
        lastProgress.withLock { state in (0..<count).filter { (state[$0] ?? instant) <= instant } }
    }
}
