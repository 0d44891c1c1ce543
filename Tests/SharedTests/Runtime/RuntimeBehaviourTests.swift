import Foundation
import Logging
import Synchronization
import Testing
import LocalFleet
import SwitchboardBase
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardObservability
import SwitchboardRuntime
import TestKit
import TestSupport

@Suite("Runtime ordering, circuit breaker and metrics", .serialized, .timeLimit(.minutes(3)))
struct RuntimeBehaviourTests {
    let topic = EventKind.subscription.topic

    @Test("later records of a key wait behind one parked in a retry tier, and other keys are not held up")
    func orderedRetries() async throws {
        let broker = try TestBroker()
        let handler = ScriptedHandler(behaviours: ["first": .failTransiently(times: 3)])
        let worker = try WorkerInstance(broker: broker, handler: handler, environment: ["IN_PLACE_RETRIES": "2"])
        let phone = "+15557000001"
        try await broker.send([
            TestEvents.subscription(id: "first", phone: phone, sequence: 1),
            TestEvents.subscription(id: "second", phone: phone, sequence: 2),
            TestEvents.subscription(id: "third", phone: phone, sequence: 3),
            TestEvents.subscription(id: "other-key", phone: "+15557000002", sequence: 4),
        ])
        #expect(await eventually(timeout: .seconds(40)) { handler.handledCount >= 4 })
        try await worker.stop()
        let handled = handler.handled
        let sameKey = handled.filter { $0.key == "acme:\(phone)" }.map(\.eventId)
        #expect(sameKey == ["first", "second", "third"])
        #expect(handled.first?.eventId == "other-key")
        let waited = try #require(handled.first { $0.eventId == "second" })
        #expect(waited.topic.hasPrefix("\(topic).retry."))
    }

    /// Tiers 1 s and 2 s (TestBroker's), two tries in place. "head" fails until it reaches the last tier; "follower"
    /// waits behind it into that tier without failing once, then fails on its own: it must get its own climb through
    /// the tiers, not inherit its predecessor's place and go straight to the DLQ.
    @Test(
        "a record that waited behind its key's predecessor into the last tier still gets every tier for its own failures"
    )
    func followerKeepsItsRetries() async throws {
        let broker = try TestBroker()
        let handler = ScriptedHandler(behaviours: [
            "head": .failTransiently(times: 4), "follower": .failTransiently(times: 2),
        ])
        let worker = try WorkerInstance(broker: broker, handler: handler, environment: ["IN_PLACE_RETRIES": "2"])
        let phone = "+15557000003"
        try await broker.send([
            TestEvents.subscription(id: "head", phone: phone, sequence: 1),
            TestEvents.subscription(id: "follower", phone: phone, sequence: 2),
        ])
        #expect(await eventually(timeout: .seconds(40)) { handler.handledCount >= 2 })
        try await worker.stop()
        #expect(handler.handled.map(\.eventId) == ["head", "follower"])
        let head = try #require(handler.handled.first { $0.eventId == "head" })
        #expect(head.topic == broker.topology.retryTopic(topic, tier: 1))
        let follower = try #require(handler.handled.first { $0.eventId == "follower" })
        #expect(
            follower.topic == broker.topology.retryTopic(topic, tier: 0),
            "its own first hand-off goes to the first tier")
        #expect(try await broker.allRecords(broker.topology.deadLetterTopic(topic)).isEmpty)
    }

    /// Tiers 1 s and 2 s, two tries in place, half a second in place at most, and a partition that counts as full
    /// with one record in it, so a throttled record may not wait in the dispatcher: "deferred" is throttled into the
    /// tiers twice, then fails transiently three times. Deferrals are not failures: its own failures still get every
    /// tier.
    @Test("a record deferred into a tier by throttling still gets every tier for its own failures")
    func deferredKeepsItsRetries() async throws {
        let broker = try TestBroker()
        let handler = ScriptedHandler(behaviours: ["deferred": .throttleThenFail(throttles: 2, failures: 3)])
        let worker = try WorkerInstance(
            broker: broker, handler: handler,
            environment: ["IN_PLACE_RETRIES": "2", "IN_PLACE_RETRY_BUDGET": "500ms", "MAX_BUFFERED_PER_PARTITION": "1"])
        try await broker.send([TestEvents.subscription(id: "deferred", phone: "+15557000005", sequence: 1)])
        #expect(await eventually(timeout: .seconds(40)) { handler.handledCount >= 1 })
        try await worker.stop()
        #expect(handler.handled.map(\.eventId) == ["deferred"])
        #expect(try await broker.allRecords(broker.topology.deadLetterTopic(topic)).isEmpty)
        var deferrals = 0
        for tier in broker.topology.tiers.indices {
            deferrals += try await broker.allRecords(broker.topology.retryTopic(topic, tier: tier)).filter {
                $0.header(FailureHeaders.deferred) == "true"
            }.count
        }
        #expect(deferrals == 2, "each throttle of a record that may not wait went to a tier")
    }

    /// A worker hands "twice" off to the first tier (parks its key there, produces the copy) and is killed before
    /// its offset is committed: the source record comes back while the copy is due. Both copies must not run at
    /// once (each would pass the ledger check before the other records it); the handler runs once.
    @Test("a record redelivered after its hand-off joins the hand-off copy instead of running beside it")
    func redeliveryAfterHandOffRunsOnce() async throws {
        let broker = try TestBroker()
        let parking = InMemoryKeyParking()
        let handler = ScriptedHandler(delay: { .milliseconds(1500) })
        let phone = "+15557000004"
        let original = TestEvents.subscription(id: "twice", phone: phone, sequence: 1)
        let tier = broker.topology.retryTopic(topic, tier: 0)
        try await parking.park(
            group: "test-group", key: "\(topic) acme:\(phone)", eventId: "twice", topic: tier, dueAt: Date())
        var copy = original
        copy.topic = tier
        copy.headers = FailureHeaders.headers(
            for: KafkaRecord(topic: topic, partition: 0, offset: 0, key: original.key, value: original.value),
            group: "test-group",
            attempts: 1, errorClass: "test.flaky", message: "handed off", now: Date(), dueAt: Date()
        )
        try await broker.send([copy, original])
        let worker = try WorkerInstance(broker: broker, handler: handler, parking: parking)
        #expect(await eventually(timeout: .seconds(30)) { handler.handledCount >= 1 })
        try await Task.sleep(for: .seconds(4))  // a copy running beside the first would have finished by now
        try await worker.stop()
        #expect(handler.handled.map(\.eventId) == ["twice"])
        #expect(handler.handled.first?.topic == tier)
    }

    @Test("when a dependency fails for every account the worker pauses and probes instead of draining into retry tiers")
    func circuitBreaker() async throws {
        let broker = try TestBroker()
        let outage = OutageHandler()
        let worker = try WorkerInstance(
            broker: broker, handler: outage,
            environment: [
                "CIRCUIT_BREAKER_THRESHOLD": "5", "CIRCUIT_PROBE_INTERVAL": "200ms", "IN_PLACE_RETRIES": "2",
                "MAX_IN_FLIGHT": "4",
            ]
        )
        let records = (0..<200).map { index in
            TestEvents.subscription(
                id: "outage-\(index)", account: "acct\(index % 4)", phone: "+1555710\(1000 + index)", sequence: index)
        }
        try await broker.send(records)
        #expect(await eventually { outage.failures >= 20 })
        try await Task.sleep(for: .seconds(3))
        // Everything up to the high watermarks (a reader waiting for "at least 0" would return before it joined).
        let retried = try await broker.allRecords(broker.topology.retryTopic(topic, tier: 0))
        #expect(retried.count <= 10, "drained \(retried.count) records into the retry tier during the outage")
        #expect(outage.successes == 0)
        outage.recover()
        #expect(await eventually(timeout: .seconds(60)) { outage.successes >= 200 })
        try await worker.stop()
        let dead = try await broker.allRecords(broker.topology.deadLetterTopic(topic))
        #expect(dead.isEmpty)
    }

    @Test("/metrics parses as Prometheus text, shows lag while a backlog exists and zero after it drains")
    func metricsAndLag() async throws {
        let broker = try TestBroker()
        let gate = AsyncEvent()
        let handler = ScriptedHandler(gate: gate)
        let worker = try WorkerInstance(
            broker: broker, handler: handler, group: "metrics-group", environment: ["MAX_BUFFERED_PER_PARTITION": "20"])
        let port = Mutex<Int?>(nil)
        let server = MetricsServer(
            port: 0, host: "127.0.0.1", registry: MetricsBootstrap.shared().registry,
            liveness: [.init("poll-loop") { worker.worker.isLive }],
            readiness: [.init("group") { worker.worker.isReady }],
            logger: Logger(label: "metrics-test"), onListening: { bound in port.withLock { $0 = bound } }
        )
        let serverTask = Task { try await server.run() }
        defer { serverTask.cancel() }
        #expect(await eventually { port.withLock { $0 } != nil })
        let base = "http://127.0.0.1:\(port.withLock { $0 }!)"
        try await broker.send(
            (0..<600).map { TestEvents.subscription(id: "lag-\($0)", phone: "+1555720\(1000 + $0 % 30)", sequence: $0) }
        )
        let sawLag = await eventually(timeout: .seconds(30)) {
            let text = (try? await httpGet("\(base)/metrics").body) ?? ""
            return metricSum(text, "switchboard_consumer_lag_records", matching: "metrics-group") > 0
        }
        #expect(sawLag)
        let (status, text) = try await httpGet("\(base)/metrics")
        #expect(status == 200)
        let check = try promtoolCheckMetrics(text)
        #expect(check.status == 0, "\(check.output)")
        #expect(text.contains("# HELP switchboard_consumer_lag_seconds"))
        #expect(metricSum(text, "switchboard_consumer_lag_seconds", matching: "metrics-group") > 0)
        #expect(try await httpGet("\(base)/healthz").status == 200)
        #expect(try await httpGet("\(base)/readyz").status == 200)
        gate.signal()
        let drained = await eventually(timeout: .seconds(30)) {
            let text = (try? await httpGet("\(base)/metrics").body) ?? ""
            return handler.handledCount >= 600
                && metricSum(text, "switchboard_consumer_lag_records", matching: "metrics-group") == 0
                && metricSum(text, "switchboard_records_total", matching: "outcome=\"processed\"") >= 600
        }
        #expect(drained)
        try await worker.stop()
        #expect(try await httpGet("\(base)/readyz").status == 503)
    }
}

/// Fails every event with a Gorgias-style transient error until `recover()`.
final class OutageHandler: EventHandler {
    private let state = Mutex((down: true, failures: 0, successes: Set<String>()))

    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        let down = state.withLock { state -> Bool in
            if state.down { state.failures += 1 }
            return state.down
        }
        if down { throw ProcessingFailure.transient("gorgias.http_503", "service unavailable", dependency: .gorgias) }
        state.withLock { _ = $0.successes.insert(event.id) }
        return .processed
    }

    func recover() { state.withLock { $0.down = false } }
    var failures: Int { state.withLock { $0.failures } }
    var successes: Int { state.withLock { $0.successes.count } }
}
