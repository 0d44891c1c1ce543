import Foundation
import Logging
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardRuntime
import TestSupport
import SwitchboardDomain
import SwitchboardStore

/// The real executables' lifecycle: the embedded broker serving other processes, and a worker stopped mid-load.
@Suite("Process lifecycle", .serialized, .timeLimit(.minutes(4)))
struct ProcessLifecycleTests {
    @Test("switchboard-dev broker prints KAFKA_BROKERS, kcat -L lists every Switchboard topic, SIGTERM stops it")
    func brokerServesKcat() async throws {
        let broker = try CLIProcess(
            ["broker", "--partitions", "4", "--retry-tiers", "30s,5m"], executable: .devTools)
        #expect(await eventually(timeout: .seconds(30)) { broker.output.contains("\n") })
        let line = try #require(broker.output.split(separator: "\n").first)
        #expect(line.hasPrefix("KAFKA_BROKERS="))
        let listing = try await DevCommandTests.kcatList(brokers: String(line.dropFirst("KAFKA_BROKERS=".count)))
        let expected = RetryTopology(tiers: [.seconds(30), .seconds(300)]).allTopics(EventKind.sourceTopics)
        #expect(expected.count == 24, "6 source topics × (source, 2 tiers, DLQ)")
        for topic in expected {
            #expect(listing.contains("topic \"\(topic)\" with 4 partitions"), "\(topic) missing from kcat -L")
        }
        broker.send(SIGTERM)
        #expect(await broker.wait(timeout: .seconds(20)) == 0)
    }

    @Test(
        "a quiet worker (LOG_LEVEL=notice, as the benchmarks run it) still names its metrics port and becomes ready; a quieter level is refused before it starts"
    )
    func quietWorkerNamesItsPort() async throws {
        let fleet = try await E2EFleet(environment: ["LOG_LEVEL": "notice"])
        let worker = try await fleet.start(.status)
        #expect(worker.metricsPort > 0)
        #expect(!worker.log.contains("\"level\":\"info\""), "info lines are filtered at notice")
        #expect(throws: FleetError.self) {
            _ = try WorkerProcess(.status, environment: fleet.environment.merging(["LOG_LEVEL": "warning"]) { $1 })
        }
        await fleet.shutdown()
    }

    @Test("a second SIGTERM while a graceful shutdown drains exits at once with 130")
    func secondSignalExitsAtOnce() async throws {
        let fleet = try await E2EFleet(environment: ["SHUTDOWN_TIMEOUT": "30s"])
        let worker = try await fleet.start(.status, environment: ["SWITCHBOARD_FAILPOINT_SLOW_SHUTDOWN": "20"])
        worker.send(SIGTERM)
        #expect(await eventually(timeout: .seconds(10)) { worker.log.contains("shutting down gracefully") })
        try await Task.sleep(for: .milliseconds(500))  // signals sent together may arrive as one
        #expect(worker.isRunning, "still draining when the second signal comes")
        let sent = ContinuousClock.now
        worker.send(SIGTERM)
        let code = await worker.waitForExit(timeout: .seconds(10))
        #expect(code == 130, "exit code \(String(describing: code))")
        #expect(ContinuousClock.now - sent < .seconds(5))
        await fleet.shutdown()
    }

    @Test(
        "SIGTERM mid-load: the worker exits 0 within its bound, commits exactly the finished work, and a new worker finishes the rest once"
    )
    func sigtermMidLoad() async throws {
        let fleet = try await E2EFleet(partitions: 3, environment: ["SHUTDOWN_TIMEOUT": "10s"])
        let total = 20_000
        let events = (0..<total).map { index in
            SubscriptionUpdate(
                accountId: "acme", phone: "+1555\(String(format: "%07d", index))", state: .subscribed, at: Date(),
                source: "signup"
            ).record(id: "signup-\(index)", source: "test")
        }
        let reports = try await fleet.broker.producer.sendAll(events)
        let worker = try await fleet.start(.status)
        #expect(
            await eventually(timeout: .seconds(60)) {
                metricSum(await worker.metrics(), "switchboard_records_total") >= 1_000
            })
        let stopped = ContinuousClock.now
        let code = await worker.terminate(timeout: .seconds(30))
        #expect(code == 0, "\(worker.log.suffix(2000))")
        #expect(ContinuousClock.now - stopped < .seconds(15), "exits within SHUTDOWN_TIMEOUT plus a margin")

        let group = FleetRoster.status.group
        let committed = try await fleet.broker.committed(group: group, topic: "sms.subscriptions", partitions: 3)
        let processed = try await fleet.withStore { store in
            var ids: Set<Int> = []
            for index in 0..<total where try await store.lookup(group: group, eventId: "signup-\(index)") != nil {
                ids.insert(index)
            }
            return ids
        }
        #expect(processed.count < total, "stopped mid-load (\(processed.count) of \(total) done)")
        for (index, report) in reports.enumerated() {
            let position = committed[TopicPartition(report.topic, report.partition)] ?? 0
            if (report.offset < position) != processed.contains(index) {
                Issue.record(
                    "event \(index) at \(report.partition)@\(report.offset): committed up to \(position), processed \(processed.contains(index))"
                )
                break
            }
        }

        let successor = try await fleet.start(.status)
        #expect(
            await eventually(timeout: .seconds(120)) {
                let offsets =
                    (try? await fleet.broker.committed(group: group, topic: "sms.subscriptions", partitions: 3)) ?? [:]
                return offsets.values.reduce(0, +) == Int64(total)
            })
        let duplicates = metricSum(
            await successor.metrics(), "switchboard_records_total", matching: "outcome=\"duplicate\"")
        #expect(duplicates == 0, "no finished record is handed out again")
        await fleet.shutdown()
    }
}
