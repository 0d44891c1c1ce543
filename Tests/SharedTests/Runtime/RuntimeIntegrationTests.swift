import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardRuntime
import TestSupport

@Suite("Worker runtime on the embedded broker", .serialized, .timeLimit(.minutes(3)))
struct RuntimeIntegrationTests {
    let topic = EventKind.subscription.topic

    @Test("records with one key are handled strictly in order while other keys run concurrently")
    func orderPerKey() async throws {
        let broker = try TestBroker()
        let handler = ScriptedHandler(delay: { .milliseconds(Int64.random(in: 0...4)) })
        let worker = try WorkerInstance(broker: broker, handler: handler, environment: ["MAX_IN_FLIGHT": "64"])
        let records = (0..<2000).map { index in
            TestEvents.subscription(id: "order-\(index)", phone: "+1555000\(1000 + index % 40)", sequence: index)
        }
        try await broker.send(records)
        #expect(await eventually(timeout: .seconds(60)) { handler.handledCount >= 2000 })
        try await worker.stop()
        let byKey = Dictionary(grouping: handler.handled, by: { $0.key ?? "" })
        #expect(byKey.count == 40)
        for (key, invocations) in byKey {
            let sequences = invocations.map(\.sequence)
            #expect(sequences == sequences.sorted(), "key \(key) out of order")
        }
        #expect(handler.countsById.values.allSatisfy { $0 == 1 })
        #expect(handler.countsById.count == 2000)
    }

    /// No ledger dedup here (a forgetful one), so every redelivery of a finished record shows. A redelivery is
    /// unavoidable only when the coordinator refused the commit made on revoke (librdkafka 2.0.2's mock broker
    /// refuses commits while any member rejoins, which happens under load; the ledger then skips the repeats);
    /// otherwise the runtime must have stored and committed every finished record before letting go.
    @Test("a member joining and another leaving loses nothing and repeats no finished record")
    func rebalance() async throws {
        let broker = try TestBroker()
        let handler = ScriptedHandler(delay: { .milliseconds(2) })
        let ledger = ForgetfulLedger()
        let first = try WorkerInstance(
            broker: broker, handler: handler, ledger: ledger, environment: ["MAX_IN_FLIGHT": "16"])
        let records = (0..<3000).map {
            TestEvents.subscription(id: "rebalance-\($0)", phone: "+1555100\(1000 + $0 % 60)", sequence: $0)
        }
        try await broker.send(records)
        #expect(await eventually { handler.handledCount >= 300 })
        let second = try WorkerInstance(
            broker: broker, handler: handler, ledger: ledger, environment: ["MAX_IN_FLIGHT": "16"])
        #expect(await eventually(timeout: .seconds(30)) { second.worker.isReady && handler.handledCount >= 1200 })
        try await first.stop()
        // Every record handled at least once (a count of handlings would also count the repeats a refused commit
        // causes, and end the wait with records still to come).
        #expect(await eventually(timeout: .seconds(90)) { handler.countsById.count >= 3000 })
        try await Task.sleep(for: .seconds(2))  // anything duplicated would show up now
        try await second.stop()
        let counts = handler.countsById
        #expect(counts.count == 3000, "lost \(3000 - counts.count) records")
        let duplicated = counts.filter { $0.value > 1 }
        let refused = first.worker.refusedCommitCount + second.worker.refusedCommitCount
        #expect(
            duplicated.isEmpty || refused > 0,
            "repeated \(duplicated.count) finished records though every commit was accepted")
        #expect(Set(handler.handled.map(\.partition)).count == 6)
    }

    @Test(
        "a transient failure succeeds in place; a longer one through a retry tier; an endless one is dead-lettered as retries-exhausted"
    )
    func transientRetries() async throws {
        let broker = try TestBroker()
        let handler = ScriptedHandler(behaviours: [
            "flaky-in-place": .failTransiently(times: 2),
            "flaky-tier": .failTransiently(times: 4),
            "hopeless": .failTransiently(times: 1000),
        ])
        let worker = try WorkerInstance(broker: broker, handler: handler, environment: ["IN_PLACE_RETRIES": "3"])
        try await broker.send([
            TestEvents.subscription(id: "flaky-in-place", phone: "+15552000001"),
            TestEvents.subscription(id: "flaky-tier", phone: "+15552000002"),
            TestEvents.subscription(id: "hopeless", phone: "+15552000003"),
        ])
        #expect(await eventually(timeout: .seconds(40)) { handler.handledCount >= 2 })
        // A transient failure that outlasts every tier is dead-lettered as such (its effect may have happened).
        let dead = try await broker.read(broker.topology.deadLetterTopic(topic), atLeast: 1, timeout: .seconds(40))
        try await worker.stop()
        let hopeless = try #require(dead.first.map(DeadLetter.init))
        #expect(hopeless.kind == .retriesExhausted)
        #expect(hopeless.errorClass == "test.flaky")
        let inPlace = try #require(handler.handled.first { $0.eventId == "flaky-in-place" })
        #expect(inPlace.topic == topic)
        #expect(inPlace.attempt == 3)
        let tiered = try #require(handler.handled.first { $0.eventId == "flaky-tier" })
        #expect(tiered.topic == broker.topology.retryTopic(topic, tier: 0))
        #expect(tiered.attempt == 5)
        let moved = try await broker.read(broker.topology.retryTopic(topic, tier: 0), atLeast: 1)
        #expect(moved.first?.header(FailureHeaders.errorClass) == "test.flaky")
        #expect(moved.first?.header(FailureHeaders.attempts) == "3")
    }

    @Test("a permanent failure lands in the DLQ with every failure header")
    func permanentFailure() async throws {
        let broker = try TestBroker()
        let handler = ScriptedHandler(behaviours: ["doomed": .failPermanently])
        let worker = try WorkerInstance(broker: broker, handler: handler)
        let record = TestEvents.subscription(id: "doomed", phone: "+15553000001")
        try await broker.send([record, TestEvents.subscription(id: "fine", phone: "+15553000001", sequence: 1)])
        let dead = try await broker.read(broker.topology.deadLetterTopic(topic), atLeast: 1)
        #expect(await eventually { handler.handledCount >= 1 })
        try await worker.stop()
        let letter = try #require(dead.first)
        for header in FailureHeaders.all where header != FailureHeaders.dueAt && header != FailureHeaders.deferred {
            #expect(letter.header(header) != nil, "missing \(header)")
        }
        #expect(letter.header(FailureHeaders.originalTopic) == topic)
        #expect(letter.header(FailureHeaders.consumerGroup) == "test-group")
        #expect(letter.header(FailureHeaders.errorClass) == "test.rejected")
        #expect(letter.header(FailureHeaders.attempts) == "1")
        #expect(DeadLetter(letter).kind == .rejected)
        #expect(letter.keyString == "acme:+15553000001")
        #expect(letter.value == record.value)
        #expect(handler.handled.map(\.eventId) == ["fine"])
    }

    @Test("200 malformed records each reach the DLQ with a reason while good records on the partition keep flowing")
    func malformedRecords() async throws {
        let broker = try TestBroker(partitions: 1)
        let handler = ScriptedHandler()
        let worker = try WorkerInstance(broker: broker, handler: handler, environment: ["MAX_RECORD_BYTES": "65536"])
        var records: [OutgoingRecord] = []
        var expectedClasses: [String: String] = [:]
        for index in 0..<200 {
            let id = "bad-\(index)"
            let value: [UInt8]
            switch index % 5 {
            case 0:
                value = Array("not json \(index)".utf8)
                expectedClasses[id] = "record.invalid_json"
            case 1:
                value = Array(
                    #"{"specversion":"1.0","id":"\#(id)","source":"t","type":"sms.subscription.changed","data":{"accountId":"acme"}}"#
                        .utf8)
                expectedClasses[id] = "event.schema_invalid"
            case 2:
                value = Array(repeating: UInt8(ascii: "x"), count: 70_000)
                expectedClasses[id] = "record.too_large"
            case 3:
                value = [0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D]
                expectedClasses[id] = "record.invalid_json"
            default:
                value = Array(
                    #"{"specversion":"1.0","id":"\#(id)","source":"t","type":"sms.unknown.thing","data":{}}"#.utf8)
                expectedClasses[id] = "event.unknown_type"
            }
            records.append(
                OutgoingRecord(
                    topic: topic, key: Array("k\(index % 7)".utf8), value: value,
                    headers: [KafkaHeader(key: "test-id", string: id)]))
            records.append(
                TestEvents.subscription(id: "good-\(index)", phone: "+1555400\(1000 + index % 7)", sequence: index))
        }
        try await broker.send(records)
        let dead = try await broker.read(broker.topology.deadLetterTopic(topic), atLeast: 200, timeout: .seconds(60))
        #expect(await eventually { handler.handledCount >= 200 })
        try await worker.stop()
        #expect(dead.count == 200)
        for letter in dead {
            let id = try #require(letter.header("test-id"))
            #expect(letter.header(FailureHeaders.errorClass) == expectedClasses[id], "\(id)")
            #expect((letter.header(FailureHeaders.errorMessage) ?? "").isEmpty == false)
        }
        #expect(handler.countsById.count == 200)
    }

    @Test("a graceful shutdown mid-load commits exactly the finished work, within the bound")
    func gracefulShutdown() async throws {
        let broker = try TestBroker()
        let handler = ScriptedHandler(delay: { .milliseconds(20) })
        let worker = try WorkerInstance(
            broker: broker, handler: handler, ledger: ForgetfulLedger(), group: "shutdown-group",
            environment: ["MAX_IN_FLIGHT": "8", "MAX_BUFFERED_PER_PARTITION": "8", "SHUTDOWN_TIMEOUT": "10s"]
        )
        try await broker.send(
            (0..<1500).map {
                TestEvents.subscription(id: "stop-\($0)", phone: "+1555500\(1000 + $0 % 50)", sequence: $0)
            })
        #expect(await eventually { handler.handledCount >= 200 })
        let took = try await worker.stop()
        #expect(took < .seconds(10))
        let handled = handler.handled
        #expect(handled.count < 1500)
        let committed = try await broker.committed(group: "shutdown-group", topic: topic)
        let byPartition = Dictionary(grouping: handled, by: \.partition)
        // Finished work stays uncommitted only when the coordinator refused the final commit or the machine was so
        // loaded that the drain bound ran out (both counted by the worker; the next owner redelivers, the ledger
        // skips). Either way nothing at or beyond the commit may be lost from the handled set's prefix.
        let refused = worker.worker.refusedCommitCount
        let abandoned = worker.worker.abandonedAtShutdownCount
        for partition in 0..<6 {
            let offsets = Set((byPartition[Int32(partition)] ?? []).map(\.offset))
            let commit = committed[TopicPartition(topic, Int32(partition))] ?? 0
            // Everything below the commit was handled…
            #expect((0..<commit).allSatisfy { offsets.contains($0) }, "partition \(partition): commit \(commit)")
            // …and nothing handled lies at or beyond it, unless the commit was refused or the drain gave up.
            #expect(
                offsets.allSatisfy { $0 < commit } || refused > 0 || abandoned > 0,
                "partition \(partition): commit \(commit), handled \(offsets.count), with every commit accepted")
        }
        if refused > 0 || abandoned > 0 {
            print("shutdown: \(refused) refused commit(s), \(abandoned) lane(s) abandoned at the drain bound")
        }
    }

    @Test("the same event delivered three times is handled once")
    func duplicates() async throws {
        let broker = try TestBroker()
        let handler = ScriptedHandler()
        let worker = try WorkerInstance(broker: broker, handler: handler)
        let record = TestEvents.subscription(id: "thrice", phone: "+15556000001")
        try await broker.send([
            record, record, record, TestEvents.subscription(id: "after", phone: "+15556000001", sequence: 1),
        ])
        #expect(await eventually { handler.handledCount >= 2 })
        try await Task.sleep(for: .milliseconds(500))
        try await worker.stop()
        #expect(handler.countsById == ["thrice": 1, "after": 1])
    }
}
