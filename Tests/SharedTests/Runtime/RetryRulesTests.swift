import Foundation
import Logging
import Synchronization
import Testing
import SwitchboardBase
import SwitchboardEvents
import SwitchboardGorgias
import SwitchboardJSON
@testable import SwitchboardKafka
import SwitchboardObservability
@testable import SwitchboardRuntime
import SwitchboardStore
import TestKit
import TestSupport

/// Every retry rule of ``RecordProcessor`` on a manual clock, with no broker: in-place retries, throttle deferral,
/// tier climbing, the DLQ, per-key parking, duplicates, shutdown and cancellation. Each test takes milliseconds.
@Suite("Retry rules (manual clock, no broker)")
struct RetryRulesTests {
    static let source = EventKind.subscription.topic
    static let topology = RetryTopology(tiers: [.seconds(30), .seconds(300)])
    static let tier0 = topology.retryTopic(source, tier: 0)
    static let tier1 = topology.retryTopic(source, tier: 1)
    static let dlq = topology.deadLetterTopic(source)

    @Test("a success is handled once, recorded in the ledger, and produces nothing")
    func success() async throws {
        let rig = Rig()
        #expect(await rig.run(Self.record("e1")) == .processed)
        #expect(rig.handler.countsById == ["e1": 1])
        #expect(try await rig.ledger.lookup(group: Rig.group, eventId: "e1")?.outcome == .processed)
        #expect(rig.producer.sent.isEmpty)
    }

    @Test("transient failures within the attempts and the budget retry in place with backoff, then succeed")
    func inPlaceRetry() async {
        let rig = Rig(behaviours: ["e1": .failTransiently(times: 2)])
        #expect(await rig.run(Self.record("e1")) == .processed)
        #expect(rig.handler.handled.map(\.attempt) == [3], "the third attempt succeeded")
        #expect(rig.producer.sent.isEmpty)
        let waited = rig.clock.elapsed
        #expect(waited > .zero && waited <= Backoff().maximum * 2, "waited \(waited) of backoff")
    }

    @Test("a failure outlasting the in-place attempts moves to the first tier with failure headers, its key parked")
    func firstTier() async throws {
        let rig = Rig(behaviours: ["e1": .failTransiently(times: 10)])
        #expect(await rig.run(Self.record("e1")) == .retried)
        let moved = try #require(rig.producer.sent.only)
        #expect(moved.topic == Self.tier0)
        #expect(moved.header(FailureHeaders.attempts) == "3")
        #expect(moved.header(FailureHeaders.errorClass) == "test.flaky")
        #expect(moved.header(FailureHeaders.originalTopic) == Self.source)
        let due = try #require(moved.header(FailureHeaders.dueAt).flatMap(RFC3339.parse))
        #expect(abs(due.timeIntervalSince(rig.wallNow()) - 30) < 0.01, "due 30 s after the hand-off")
        #expect(try await rig.parking.head(group: Rig.group, key: Self.parkingKey)?.eventId == "e1")
    }

    @Test("a failure on the last tier is dead-lettered as retries-exhausted, and its key released")
    func lastTierToDeadLetter() async throws {
        let rig = Rig(behaviours: ["e1": .failTransiently(times: 10)])
        try await rig.parking.park(
            group: Rig.group, key: Self.parkingKey, eventId: "e1", topic: Self.tier1, dueAt: rig.wallNow())
        let record = Self.record("e1", topic: Self.tier1, headers: [(FailureHeaders.attempts, "6")])
        #expect(await rig.run(record) == .deadLettered)
        let dead = try #require(rig.producer.sent.only)
        #expect(dead.topic == Self.dlq)
        #expect(dead.header(FailureHeaders.deadLetterKind) == DeadLetter.Kind.retriesExhausted.rawValue)
        #expect(dead.header(FailureHeaders.attempts) == "9")
        #expect(try await rig.parking.head(group: Rig.group, key: Self.parkingKey) == nil)
    }

    @Test("a permanent failure is dead-lettered at once as rejected")
    func permanent() async throws {
        let rig = Rig(behaviours: ["e1": .failPermanently])
        #expect(await rig.run(Self.record("e1")) == .deadLettered)
        let dead = try #require(rig.producer.sent.only)
        #expect(
            dead.topic == Self.dlq && dead.header(FailureHeaders.deadLetterKind) == DeadLetter.Kind.rejected.rawValue)
        #expect(dead.header(FailureHeaders.attempts) == "1")
        #expect(rig.clock.elapsed == .zero, "no waiting before a permanent failure's dead letter")
    }

    @Test(
        "a record that does not decode is dead-lettered once as rejected, with the decoder's error class",
        arguments: [
            ("acme:+15550001111", "{not json", "record.invalid_json"),
            ("acme:+1555\u{0}0001111", nil, "record.invalid_key"),
            ("other:+15550001111", nil, "event.key_mismatch"),
        ] as [(String, String?, String)]
    )
    func undecodable(key: String, value: String?, errorClass: String) async throws {
        let rig = Rig()
        let valid = Self.record("e1")
        let record = KafkaRecord(
            topic: Self.source, partition: 0, offset: 7, key: Array(key.utf8),
            value: value.map { Array($0.utf8) } ?? valid.value)
        #expect(await rig.run(record) == .deadLettered)
        let dead = try #require(rig.producer.sent.only)
        #expect(dead.topic == Self.dlq && dead.header(FailureHeaders.errorClass) == errorClass)
        #expect(dead.header(FailureHeaders.deadLetterKind) == DeadLetter.Kind.rejected.rawValue)
        #expect(rig.handler.handledCount == 0)
    }

    @Test("throttling gives the slot back at once with the budget's wait: no waiting in place, nothing produced")
    func throttledYields() async throws {
        let rig = Rig(behaviours: ["e1": .throttleThenFail(throttles: 3, failures: 0)])
        guard case .throttled(let throttled) = await rig.runOnce(Self.record("e1")) else {
            Issue.record("a throttled record returns to the dispatcher")
            return
        }
        #expect(throttled.wait == .seconds(1), "the wait is the budget's Retry-After")
        #expect(throttled.attempts == 0, "a throttle is not a failed attempt")
        #expect(rig.clock.elapsed == .zero, "no waiting in place while holding a slot")
        #expect(rig.producer.sent.isEmpty)
        _ = await rig.runOnce(Self.record("e1"))
        _ = await rig.runOnce(Self.record("e1"))
        #expect(await rig.run(Self.record("e1")) == .processed, "runs again once the budget has tokens")
    }

    @Test(
        "a provider refusing the merchant's credentials (401) makes it wait the recheck interval: no attempt counted, nothing produced"
    )
    func refusedCredentialsWait() async throws {
        let rig = Rig(handler: RefusingHandler())
        guard case .throttled(let throttled) = await rig.runOnce(Self.record("e1")) else {
            Issue.record("a record whose credentials were refused returns to the dispatcher to wait, not to a tier")
            return
        }
        #expect(
            throttled.failure.refusedCredentials == .gorgias && throttled.failure.errorClass == "gorgias.unauthorized")
        #expect(throttled.wait == RetrySettings().credentialsRecheck, "it waits for the credentials, not a budget")
        #expect(throttled.attempts == 0, "a refusal is not a failed attempt, so it never climbs toward the DLQ")
        #expect(rig.producer.sent.isEmpty)
    }

    @Test("a throttled record that may not wait is deferred to a tier without counting an attempt")
    func throttledDeferral() async throws {
        let rig = Rig(behaviours: ["e1": .throttleThenFail(throttles: 100, failures: 0)])
        guard case .throttled(let throttled) = await rig.runOnce(Self.record("e1")) else {
            Issue.record("a throttled record returns to the dispatcher")
            return
        }
        #expect(await rig.processor.deferToTier(throttled) == .retried)
        let deferred = try #require(rig.producer.sent.only)
        #expect(deferred.topic == Self.tier0)
        #expect(deferred.header(FailureHeaders.deferred) == "true")
        #expect(deferred.header(FailureHeaders.attempts) == "0", "a deferral is not a failed attempt")
    }

    @Test("once shutdown begins a throttled record is deferred to a tier at once")
    func throttledAtShutdown() async throws {
        let rig = Rig(behaviours: ["e1": .throttleThenFail(throttles: 100, failures: 0)])
        rig.shutdown.signal()
        #expect(await rig.run(Self.record("e1")) == .retried)
        #expect(rig.producer.sent.only?.header(FailureHeaders.deferred) == "true")
    }

    @Test("a deferral on the last tier waits in the last tier again: throttling never reaches the DLQ")
    func throttledNeverDeadLetters() async throws {
        let rig = Rig(behaviours: ["e1": .throttleThenFail(throttles: 100, failures: 0)])
        let record = Self.record("e1", topic: Self.tier1, headers: [(FailureHeaders.attempts, "6")])
        guard case .throttled(let throttled) = await rig.runOnce(record) else {
            Issue.record("a throttled record returns to the dispatcher")
            return
        }
        #expect(await rig.processor.deferToTier(throttled) == .retried)
        let deferred = try #require(rig.producer.sent.only)
        #expect(deferred.topic == Self.tier1 && deferred.header(FailureHeaders.deferred) == "true")
    }

    @Test("a record deferred by throttling that then fails climbs from the first tier, not past it")
    func deferredThenFailing() async throws {
        let rig = Rig(behaviours: ["e1": .failTransiently(times: 10)])
        #expect(
            await rig.run(Self.record("e1", topic: Self.tier1, headers: [(FailureHeaders.deferred, "true")]))
                == .retried)
        #expect(rig.producer.sent.only?.topic == Self.tier0)
    }

    @Test("a later event of a parked key is sent behind it into the same tier, unhandled")
    func waitsBehindParkedKey() async throws {
        let rig = Rig()
        let due = rig.wallNow().addingTimeInterval(30)
        try await rig.parking.park(group: Rig.group, key: Self.parkingKey, eventId: "e0", topic: Self.tier0, dueAt: due)
        #expect(await rig.run(Self.record("e1")) == .retried)
        let behind = try #require(rig.producer.sent.only)
        #expect(behind.topic == Self.tier0 && behind.header(FailureHeaders.errorClass) == FailureHeaders.waitingBehind)
        #expect(rig.handler.handledCount == 0)
        #expect(try await rig.parking.head(group: Rig.group, key: Self.parkingKey)?.eventId == "e0", "e0 still first")
    }

    @Test("a parked head long overdue is presumed lost and released, so its key cannot stay blocked")
    func staleHeadReleased() async throws {
        let rig = Rig()
        let longAgo = rig.wallNow().addingTimeInterval(-3 * 3600)
        try await rig.parking.park(
            group: Rig.group, key: Self.parkingKey, eventId: "lost", topic: Self.tier0, dueAt: longAgo)
        #expect(await rig.run(Self.record("e1")) == .processed)
        #expect(rig.producer.sent.isEmpty)
    }

    @Test("a redelivered event is skipped; one reusing an id with other content is rejected")
    func duplicates() async throws {
        let rig = Rig()
        #expect(await rig.run(Self.record("e1")) == .processed)
        #expect(await rig.run(Self.record("e1")) == .duplicate)
        #expect(await rig.run(Self.record("e1", sequence: 99)) == .deadLettered)
        #expect(rig.producer.sent.only?.header(FailureHeaders.errorClass) == "event.conflicting_duplicate")
        #expect(rig.handler.countsById == ["e1": 1])
    }

    @Test("once shutdown begins a transient failure hands off at once instead of waiting in place")
    func shutdownHandsOff() async throws {
        let rig = Rig(behaviours: ["e1": .failTransiently(times: 1)])
        rig.shutdown.signal()
        #expect(await rig.run(Self.record("e1")) == .retried)
        #expect(rig.producer.sent.only?.topic == Self.tier0)
        #expect(rig.clock.elapsed == .zero)
    }

    @Test(
        "breaker: once a dependency fails for everyone the record probes in place past its attempts, and a success closes it"
    )
    func breakerProbesThenCloses() async throws {
        let outage = GorgiasOutageHandler(failures: 8)
        let rig = Rig(handler: outage, breakerThreshold: 2)
        var transitions = rig.processor.breaker.transitions.makeAsyncIterator()
        #expect(await rig.run(Self.record("e1")) == .processed, "kept probing instead of moving to a tier")
        #expect(rig.producer.sent.isEmpty)
        #expect(outage.calls == 9)
        #expect(await transitions.next() == .opened(.gorgias))
        #expect(await transitions.next() == .closed)
        #expect(!rig.processor.breaker.isOpen)
        let probes = rig.clock.elapsed
        #expect(probes <= RetrySettings().probeInterval * 8, "each probe waits at most the probe interval (\(probes))")
    }

    @Test("what a handler decided is logged with the event id: ignored at info, handled at debug")
    func decisionsLogged() async throws {
        let log = CapturedLog()
        for (id, result) in [
            ("e1", HandlerResult.processed("ticket 42 is closed in the mirror")), ("e2", .ignored("unknown account")),
        ] {
            let rig = Rig(handler: FixedHandler(result: result), logger: log.logger)
            _ = await rig.run(Self.record(id))
        }
        #expect(
            log.lines.contains {
                $0.level == .debug && $0.message == "event handled: ticket 42 is closed in the mirror"
                    && $0.eventId == "e1"
            })
        #expect(
            log.lines.contains {
                $0.level == .info && $0.message == "event ignored: unknown account" && $0.eventId == "e2"
            })
    }

    @Test("a dead letter the producer refuses is retried with backoff until acknowledged, and sent once")
    func deadLetterRetriedUntilAcknowledged() async throws {
        let rig = Rig(behaviours: ["e1": .failPermanently], producerFailures: 3)
        #expect(await rig.run(Self.record("e1")) == .deadLettered)
        #expect(rig.producer.sent.count == 1 && rig.producer.refused == 3)
        #expect(rig.clock.elapsed > .zero, "backed off between tries")
    }

    @Test("regression: a key the parking store cannot read is dead-lettered once, not once per retry")
    func unreadableKeyDeadLettersOnce() async throws {
        let rig = Rig(parking: UnreadableParking())
        #expect(await rig.run(Self.record("e1")) == .deadLettered)
        #expect(rig.producer.sent.count == 1, "\(rig.producer.sent.map(\.topic))")
        #expect(rig.producer.sent.first?.header(FailureHeaders.errorClass) == "store.invalid_data")
    }

    @Test("regression: two poison records in flight on one partition are each dead-lettered exactly once")
    func twoPoisonRecords() async throws {
        let rig = Rig(behaviours: ["p1": .failPermanently, "p2": .failPermanently])
        async let first = rig.run(Self.record("p1", offset: 1))
        async let second = rig.run(Self.record("p2", phone: "+15550002222", offset: 2))
        #expect(await [first, second] == [.deadLettered, .deadLettered])
        #expect(rig.producer.sent.map(\.topic) == [Self.dlq, Self.dlq])
        #expect(Set(rig.producer.sent.compactMap { $0.header(FailureHeaders.originalOffset) }) == ["1", "2"])
    }

    @Test("regression: a revoke mid-retry abandons the record uncommitted, and the next owner handles it once")
    func revokeMidRetry() async throws {
        let rig = Rig(behaviours: ["e1": .failTransiently(times: 2)])
        let abandoned = await rig.run(Self.record("e1"), cancelAfterSleeps: 1)
        #expect(abandoned == nil, "an abandoned record has no outcome, so its offset is not committed")
        #expect(rig.producer.sent.isEmpty)
        #expect(await rig.run(Self.record("e1")) == .processed)
        #expect(rig.handler.countsById == ["e1": 1])
    }

    // MARK: Fixtures

    static let parkingKey = "\(source) acme:+15550001111"

    static func record(
        _ id: String, topic: String = source, phone: String = "+15550001111", sequence: Int = 0, offset: Int64 = 1,
        headers: [(String, String)] = []
    ) -> KafkaRecord {
        let outgoing = TestEvents.subscription(id: id, phone: phone, sequence: sequence)
        return KafkaRecord(
            topic: topic, partition: 0, offset: offset, key: outgoing.key, value: outgoing.value,
            headers: headers.map { KafkaHeader(key: $0.0, string: $0.1) }
        )
    }
}

/// A record processor on a manual clock with in-memory ledger and parking and a capturing producer.
private final class Rig: Sendable {
    static let group = "rules"
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)

    let clock = ManualClock(epoch: Rig.epoch)
    let handler: ScriptedHandler
    let ledger = InMemoryLedger()
    let parking: any KeyParking
    let producer: CapturingProducer
    let shutdown = AsyncEvent()
    let processor: RecordProcessor

    init(
        behaviours: [String: ScriptedHandler.Behaviour] = [:], handler custom: (any EventHandler)? = nil,
        parking: any KeyParking = InMemoryKeyParking(),
        producerFailures: Int = 0, breakerThreshold: Int = 1000, logger: Logger = Logger(label: "rules")
    ) {
        handler = ScriptedHandler(behaviours: behaviours)
        self.parking = parking
        producer = CapturingProducer(failures: producerFailures)
        let clock = clock
        processor = RecordProcessor(
            group: Self.group, topology: RetryRulesTests.topology, decoder: EventDecoder(), handler: custom ?? handler,
            ledger: ledger,
            parking: parking, producer: producer, settings: RetrySettings(),
            breaker: BreakerGate(settings: .init(threshold: breakerThreshold)),
            metrics: WorkerMetrics(group: Self.group, metrics: MetricsBootstrap.shared()), logger: logger,
            shutdown: shutdown, topicRoles: RetryRulesTests.topology.index([RetryRulesTests.source]),
            dependencies: { _ in [.gorgias] },
            time: clock
        )
    }

    func wallNow() -> Date { clock.date }

    /// Processes `record`, moving the clock to each sleeper's deadline as soon as it sleeps; with
    /// `cancelAfterSleeps`, cancels the task (as a revoke does) once it has slept that many times.
    func run(_ record: KafkaRecord, cancelAfterSleeps: Int? = nil) async -> RecordOutcome? {
        switch await runOnce(record, cancelAfterSleeps: cancelAfterSleeps) {
        case .finished(let outcome): outcome
        case .abandoned, .throttled: nil
        }
    }

    /// Like ``run(_:cancelAfterSleeps:)``, with what the dispatcher sees.
    func runOnce(_ record: KafkaRecord, cancelAfterSleeps: Int? = nil) async -> RecordRun {
        let processor = processor
        let task = Task { await processor.process(record) }
        let finished = AsyncEvent()
        Task {
            _ = await task.value
            finished.signal()
        }
        var sleeps = 0
        while !finished.isSignalled {
            if clock.sleeperCount > 0 {
                sleeps += 1
                if let cancelAfterSleeps, sleeps > cancelAfterSleeps {
                    task.cancel()
                    break
                }
                clock.advanceToNextDeadline()
            } else {
                await Task.yield()
            }
        }
        return await task.value
    }
}

/// Captures produced records; refuses the first `failures` sends as a broker outage would.
private final class CapturingProducer: RecordProducing {
    private let state: Mutex<(sent: [OutgoingRecord], refused: Int, failures: Int)>

    init(failures: Int) { state = Mutex(([], 0, failures)) }

    var sent: [OutgoingRecord] { state.withLock { $0.sent } }
    var refused: Int { state.withLock { $0.refused } }

    func send(_ record: OutgoingRecord) async throws -> DeliveryReport {
        try state.withLock { state in
            if state.refused < state.failures {
                state.refused += 1
                throw KafkaError(code: .timedOut, reason: "broker down (test)")
            }
            state.sent.append(record)
            return DeliveryReport(topic: record.topic, partition: 0, offset: Int64(state.sent.count - 1))
        }
    }
}

/// Gorgias down for everyone: the first `failures` calls fail transiently with the Gorgias dependency.
private final class GorgiasOutageHandler: EventHandler {
    private let state: Mutex<(calls: Int, failures: Int)>
    init(failures: Int) { state = Mutex((0, failures)) }
    var calls: Int { state.withLock { $0.calls } }

    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        let failing = state.withLock { state -> Bool in
            state.calls += 1
            return state.calls <= state.failures
        }
        if failing {
            throw ProcessingFailure.transient("gorgias.unavailable", "Gorgias is down (test)", dependency: .gorgias)
        }
        return .processed
    }
}

/// Returns the same result for every event.
private struct FixedHandler: EventHandler {
    let result: HandlerResult
    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult { result }
}

/// Collects log lines (level, message, event id) at every level.
private final class CapturedLog: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var eventId: String?
    }

    private let captured = Mutex<[Line]>([])
    var lines: [Line] { captured.withLock { $0 } }

    var logger: Logger {
        Logger(label: "captured") { _ in Handler(log: self) }
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let eventId = (metadata.merging(event.metadata ?? [:]) { _, new in new })[LogKeys.eventId].map { "\($0)" }
            log.captured.withLock { $0.append(Line(level: event.level, message: "\(event.message)", eventId: eventId)) }
        }
    }
}

/// Parking whose store cannot read a key (as a key with a NUL byte once could not be).
private final class UnreadableParking: KeyParking {
    func head(group: String, key: String) async throws -> ParkedEvent? {
        throw ProcessingFailure.permanent("store.invalid_data", "the store cannot read this key (test)")
    }
    func park(group: String, key: String, eventId: String, topic: String, dueAt: Date) async throws {}
    func release(group: String, key: String, eventId: String) async throws {}
}

extension OutgoingRecord {
    func header(_ name: String) -> String? { headers.last { $0.key == name }?.stringValue }
}

extension Array {
    /// The single element, or nil when there are none or several.
    var only: Element? { count == 1 ? first : nil }
}

/// Gorgias refuses every call: the merchant's key was revoked.
private struct RefusingHandler: EventHandler {
    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        throw GorgiasError(status: 401, message: "Unauthorized", operation: "create ticket")
    }
}
