import Foundation
import Logging
import SwitchboardBase
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardObservability
import SwitchboardStore

/// Anything records can be produced to (the Kafka producer; a fake in unit tests).
public protocol RecordProducing: Sendable {
    @discardableResult
    func send(_ record: OutgoingRecord) async throws -> DeliveryReport
}

extension KafkaProducer: RecordProducing {}

/// Retry behaviour of the runtime (architecture §3, Failures).
public struct RetrySettings: Sendable {
    /// Tries in place (including the first) before a transient failure moves to a retry tier.
    public var inPlaceAttempts: Int = 3
    /// Longest a record retries in place before moving on.
    public var inPlaceBudget: Duration = .seconds(10)
    public var backoff = Backoff()
    /// While the circuit is open, how often an in-flight record probes the dependency again.
    public var probeInterval: Duration = .seconds(5)
    /// A parked head whose due time is this far past is treated as lost, so its key cannot stay blocked forever.
    public var parkedHeadStaleAfter: Duration = .seconds(2 * 3600)
    /// How long a merchant whose credentials a provider refused waits before one of its records tries again.
    public var credentialsRecheck: Duration = .seconds(60)

    public init() {}
}

/// What became of one run of a record.
enum RecordRun: Sendable {
    case finished(RecordOutcome)
    /// Cancelled by a revoke or a shutdown bound: not finished, so its offset is not committed and another delivery
    /// handles it.
    case abandoned
    /// Its merchant's budget is spent: the record gives its slot back and runs again once the budget has tokens
    /// (``ThrottledRecord/wait``), or, where it may not wait (``RecordProcessor/deferToTier(_:)``), moves to a retry
    /// tier.
    case throttled(ThrottledRecord)
}

/// A record that found its merchant's budget spent, with what deferring it to a retry tier needs.
struct ThrottledRecord: Sendable {
    let record: KafkaRecord
    let source: String
    let role: RetryTopology.Role
    let event: CloudEvent
    let attempts: Int
    let failure: ProcessingFailure
    let logger: RecordLogger
    /// Until the budget has tokens again (the limiter's or the API's `Retry-After`), or, when the provider refused
    /// the merchant's credentials, until they are worth trying again.
    let wait: Duration
}

/// Runs one record through the pipeline: decode and validate, idempotency check, per-key order across retry tiers,
/// the handler with in-place retries, then hand-off to a retry tier or the DLQ with failure headers.
///
/// A throttled record does not wait in place: it returns ``RecordRun/throttled(_:)`` so the dispatcher gives
/// its slot to another merchant (``DispatchStateMachine/yield(_:wait:now:)``). During shutdown it is deferred to a
/// retry tier at once.
///
/// Time comes from `time` (monotonic for waits and budgets, wall for failure headers and due times), so tests drive
/// every retry rule with a manual clock and no broker (`RetryRulesTests`).
struct RecordProcessor: Sendable {
    let group: String
    let topology: RetryTopology
    let decoder: EventDecoder
    let handler: any EventHandler
    let ledger: any IdempotencyLedger
    let parking: any KeyParking
    let producer: any RecordProducing
    let settings: RetrySettings
    let breaker: BreakerGate
    let metrics: WorkerMetrics
    let logger: Logger
    /// Signalled at shutdown: no more waiting in place; failures hand off at once.
    let shutdown: AsyncEvent
    /// Topic → source and role, computed once.
    let topicRoles: [String: (source: String, role: RetryTopology.Role)]
    /// Source topic → what its handling may call (a success closes only those circuits).
    let dependencies: @Sendable (String) -> Set<ProcessingFailure.Dependency>
    /// Measures waits and budgets (monotonic), and the time written into failure headers and compared with due
    /// times (wall).
    let time: any TimeSource

    func process(_ record: KafkaRecord) async -> RecordRun {
        var logger = RecordLogger(base: self.logger, record: record)
        guard let (source, role) = topicRoles[record.topic] else {
            logger.logger.error("record from a topic this worker does not own; skipped")
            return .finished(.ignored)
        }
        let previousAttempts = FailureHeaders.previousAttempts(record)
        let event: CloudEvent
        switch decoder.decode(record, sourceTopic: source) {
        case .failure(let rejection):
            let failure = ProcessingFailure.permanent(rejection.errorClass, rejection.reason)
            return RecordRun(
                await deadLetter(
                    record, source: source, event: nil, attempts: previousAttempts + 1, failure: failure,
                    logger: logger))
        case .success(let decoded):
            event = decoded
        }
        logger.eventId = event.id
        logger.accountId = event.accountId

        // The in-place budget bounds a failing stretch.
        var failingSince: ContinuousClock.Instant?
        var attempt = previousAttempts + 1
        var inPlaceRetries = 0
        while true {
            if Task.isCancelled { return .abandoned }
            do {
                return .finished(
                    try await RecordTracing.attempt(record, source: source, event: event, attempt: attempt) {
                        try await attemptOnce(record, source: source, event: event, attempt: attempt, logger: logger)
                    })
            } catch {
                if Task.isCancelled { return .abandoned }
                let failure = ProcessingFailure.classify(error)
                switch failure.kind {
                case .permanent:
                    return RecordRun(
                        await deadLetter(
                            record, source: source, event: event, attempts: attempt, failure: failure, logger: logger))
                case .transient:
                    breaker.failure(failure, account: event.accountId)
                    inPlaceRetries += 1
                    let delay = settings.backoff.delay(attempt: inPlaceRetries, floor: failure.retryAfter)
                    let circuitOpen = breaker.isOpen
                    let now = time.now
                    if failingSince == nil { failingSince = now }
                    let withinBudget =
                        inPlaceRetries < settings.inPlaceAttempts
                        && failingSince!.duration(to: now) + delay <= settings.inPlaceBudget
                    if shutdown.isSignalled && circuitOpen {
                        return .abandoned  // systemic outage while stopping: leave it uncommitted for the next owner
                    }
                    if !shutdown.isSignalled && (withinBudget || circuitOpen) {
                        logger.logger.debug(
                            "transient failure, retrying in place",
                            metadata: [LogKeys.errorClass: "\(failure.errorClass)"])
                        metrics.inPlaceRetry(topic: record.topic, errorClass: failure.errorClass)
                        await pause(circuitOpen ? min(delay, settings.probeInterval) : delay)
                        attempt += 1
                        continue
                    }
                    return RecordRun(
                        await handOff(
                            record, source: source, role: role, event: event, attempts: attempt, failure: failure,
                            logger: logger))
                case .throttled:
                    // A throttle is not a failed attempt: the attempt count stays where it was.
                    let throttled = ThrottledRecord(
                        record: record, source: source, role: role, event: event, attempts: attempt - 1,
                        failure: failure, logger: logger,
                        wait: failure.refusedCredentials != nil
                            ? settings.credentialsRecheck : failure.retryAfter ?? .seconds(1))
                    if shutdown.isSignalled { return RecordRun(await deferToTier(throttled)) }
                    metrics.throttled(topic: record.topic)
                    return .throttled(throttled)
                }
            }
        }
    }

    /// Moves a throttled record to a retry tier due when its budget has tokens again (never dead-lettered for it),
    /// where it may not wait for its budget in the dispatcher: at shutdown, or while its partition is full.
    func deferToTier(_ throttled: ThrottledRecord) async -> RecordOutcome? {
        await handOff(
            throttled.record, source: throttled.source, role: throttled.role, event: throttled.event,
            attempts: throttled.attempts, failure: throttled.failure, minimumDelay: throttled.wait,
            logger: throttled.logger)
    }

    /// The key a record's order is kept under across retry tiers: its record key within its source topic. Order is
    /// per topic (as Kafka's is): a STOP on `sms.consent` never waits behind a text of the same customer parked in
    /// `sms.inbound`'s tiers.
    static func parkingKey(_ record: KafkaRecord, source: String) -> String? {
        record.keyString.map { "\(source) \($0)" }
    }

    /// The ledger and the parking as one store that reads both together, when they are one (found once, by
    /// ``readTogether(_:_:)``, not per record: the cast is costly).
    var ledgerAndParking: (any LedgerAndParking)? = nil

    /// `ledger` when it is also `parking` and can read both in one round trip.
    static func readTogether(_ ledger: any IdempotencyLedger, _ parking: any KeyParking) -> (any LedgerAndParking)? {
        (ledger as AnyObject) === (parking as AnyObject) ? ledger as? any LedgerAndParking : nil
    }

    /// The ledger entry of `eventId` and the head of `key`'s parking: one store round trip when the ledger and the
    /// parking are one store that reads both together (``ledgerAndParking``), two otherwise (the test fakes).
    private func firstLook(eventId: String, key: String?) async throws -> (LedgerEntry?, ParkedEvent?) {
        if let both = ledgerAndParking {
            return try await both.lookup(group: group, eventId: eventId, parkedUnder: key)
        }
        let entry = try await ledger.lookup(group: group, eventId: eventId)
        guard entry == nil, let key else { return (entry, nil) }
        return (nil, try await parking.head(group: group, key: key))
    }

    /// One try: ledger check, ordering check, the handler, the ledger write.
    private func attemptOnce(
        _ record: KafkaRecord, source: String, event: CloudEvent, attempt: Int, logger: RecordLogger
    ) async throws -> RecordOutcome {
        let key = Self.parkingKey(record, source: source)
        let (handled, parkedHead) = try await firstLook(eventId: event.id, key: key)
        if let entry = handled {
            guard entry.fingerprint == event.fingerprint else {
                throw ProcessingFailure.permanent(
                    "event.conflicting_duplicate",
                    "event id was already handled with different content; the earlier version was kept"
                )
            }
            logger.logger.debug("duplicate event skipped")
            return .duplicate
        }
        var isParkedHead = false
        if let key, let head = parkedHead {
            if head.eventId == event.id && head.topic != record.topic {
                // This event was handed off to `head.topic` and this copy came back anyway (a crash before its offset
                // was committed): join the hand-off copy there, where the key's lane takes the two one after the
                // other, instead of running beside it (the ledger alone cannot stop two copies in flight at once).
                return try await waitBehind(head, record: record, event: event, key: key, logger: logger)
            } else if head.eventId == event.id {
                isParkedHead = true
            } else if time.date.timeIntervalSince(head.dueAt) > settings.parkedHeadStaleAfter.seconds {
                logger.logger.error("parked event \(head.eventId) is long overdue and presumed lost; releasing its key")
                try await parking.release(group: group, key: key, eventId: head.eventId)
                return try await attemptOnce(record, source: source, event: event, attempt: attempt, logger: logger)
            } else {
                return try await waitBehind(head, record: record, event: event, key: key, logger: logger)
            }
        }
        let context = HandlerContext(
            recordLogger: logger, group: group, topic: record.topic, partition: record.partition, offset: record.offset,
            key: record.keyString, attempt: attempt
        )
        let result = try await handler.handle(event, context: context)
        breaker.success(account: event.accountId, dependencies: dependencies(source))
        let outcome: RecordOutcome = result.outcome == .processed ? .processed : .ignored
        if !result.recordedInLedger {
            try await ledger.record(context.ledgerEntry(for: event, outcome: outcome))
        }
        if isParkedHead, let key {
            try await parking.release(group: group, key: key, eventId: event.id)
        }
        if let reason = result.reason {
            if outcome == .ignored {
                logger.logger.info("event ignored: \(reason)")
            } else {
                logger.logger.debug("event handled: \(reason)")
            }
        }
        return outcome
    }

    /// An earlier event of the same key waits in a retry tier: send this one after it, into the same tier.
    private func waitBehind(
        _ head: ParkedEvent, record: KafkaRecord, event: CloudEvent, key: String, logger: RecordLogger
    ) async throws -> RecordOutcome {
        let dueAt = max(head.dueAt, time.date)
        try await parking.park(group: group, key: key, eventId: event.id, topic: head.topic, dueAt: dueAt)
        let headers = FailureHeaders.headers(
            for: record, group: group, attempts: FailureHeaders.previousAttempts(record),
            errorClass: FailureHeaders.waitingBehind, message: "waiting behind event \(head.eventId) of the same key",
            now: time.date, dueAt: dueAt
        )
        try await producer.send(
            OutgoingRecord(topic: head.topic, key: record.key, value: record.value, headers: headers))
        logger.logger.debug(
            "parked behind an earlier event of the same key", metadata: ["retry_topic": "\(head.topic)"])
        return .retried
    }

    /// Moves a transiently failing (or throttled) record to its next retry tier, or the DLQ after the last one.
    private func handOff(
        _ record: KafkaRecord,
        source: String,
        role: RetryTopology.Role,
        event: CloudEvent,
        attempts: Int,
        failure: ProcessingFailure,
        minimumDelay: Duration = .zero,
        logger: RecordLogger
    ) async -> RecordOutcome? {
        // A record that reached this tier only by waiting behind an earlier event of its key, or by being deferred
        // while throttled, has used no tier for failures of its own: those climb from the first tier.
        let arrivedWithoutFailing =
            record.header(FailureHeaders.errorClass) == FailureHeaders.waitingBehind
            || record.header(FailureHeaders.deferred) == "true"
        let climbed = arrivedWithoutFailing ? .source : role
        let next = topology.nextTopic(
            source: source, after: climbed, minimumDelay: minimumDelay, deferral: failure.kind == .throttled)
        guard let delay = next.delay else {
            return await deadLetter(
                record, source: source, event: event, attempts: attempts, failure: failure, logger: logger)
        }
        let now = time.date
        let dueAt = now.addingTimeInterval(delay.seconds)
        var headers = FailureHeaders.headers(
            for: record, group: group, attempts: attempts, errorClass: failure.errorClass, message: failure.message,
            now: now, dueAt: dueAt
        )
        if failure.kind == .throttled { headers.append(KafkaHeader(key: FailureHeaders.deferred, string: "true")) }
        let delivered = await persistently(logger: logger, what: "move to \(next.topic)") {
            if let key = Self.parkingKey(record, source: source) {
                try await parking.park(group: group, key: key, eventId: event.id, topic: next.topic, dueAt: dueAt)
            }
            try await producer.send(
                OutgoingRecord(topic: next.topic, key: record.key, value: record.value, headers: headers))
        }
        guard delivered else { return nil }
        logger.logger.warning(
            "moved to retry tier",
            metadata: [
                LogKeys.errorClass: "\(failure.errorClass)", "retry_topic": "\(next.topic)", "attempts": "\(attempts)",
            ]
        )
        return .retried
    }

    /// Sends a record to its source topic's DLQ with the failure headers.
    private func deadLetter(
        _ record: KafkaRecord,
        source: String,
        event: CloudEvent?,
        attempts: Int,
        failure: ProcessingFailure,
        logger: RecordLogger
    ) async -> RecordOutcome? {
        let topic = topology.deadLetterTopic(source)
        let kind: DeadLetter.Kind = failure.kind == .permanent ? .rejected : .retriesExhausted
        let headers =
            FailureHeaders.headers(
                for: record, group: group, attempts: attempts, errorClass: failure.errorClass, message: failure.message,
                now: time.date, dueAt: nil
            ) + [KafkaHeader(key: FailureHeaders.deadLetterKind, string: kind.rawValue)]
        let delivered = await persistently(logger: logger, what: "dead-letter to \(topic)") {
            try await producer.send(
                OutgoingRecord(topic: topic, key: record.key, value: record.value, headers: headers))
        }
        guard delivered else { return nil }
        // The dead letter is acknowledged: the record is done whatever follows. Releasing its key is best-effort (a
        // key left parked is released by the next record of the key once the head is long overdue).
        if let event, let key = Self.parkingKey(record, source: source) {
            do {
                if try await parking.head(group: group, key: key)?.eventId == event.id {
                    try await parking.release(group: group, key: key, eventId: event.id)
                }
            } catch {
                logger.logger.warning("dead-lettered record's key not released: \(ProcessingFailure.classify(error))")
            }
        }
        metrics.deadLettered(sourceTopic: source, errorClass: failure.errorClass)
        logger.logger.warning(
            "dead-lettered",
            metadata: [
                LogKeys.errorClass: "\(failure.errorClass)", LogKeys.reason: "\(failure.message)",
                "attempts": "\(attempts)",
            ]
        )
        return .deadLettered
    }

    /// Retries `body` with backoff until it succeeds; false if the task was cancelled first.
    private func persistently(logger: RecordLogger, what: String, _ body: () async throws -> Void) async -> Bool {
        var attempt = 0
        while !Task.isCancelled {
            do {
                try await body()
                return true
            } catch {
                attempt += 1
                logger.logger.warning("could not \(what), retrying: \(ProcessingFailure.classify(error))")
                // Not `pause`: this must keep backing off during shutdown too.
                try? await time.sleep(for: settings.backoff.delay(attempt: attempt))
            }
        }
        return false
    }

    /// Sleeps unless shutdown begins or the task is cancelled.
    private func pause(_ duration: Duration) async {
        _ = await shutdown.wait(timeout: duration, time: time)
    }
}

extension RecordRun {
    /// A finished run, or an abandoned one when `outcome` is nil.
    init(_ outcome: RecordOutcome?) {
        self = outcome.map { .finished($0) } ?? .abandoned
    }
}
