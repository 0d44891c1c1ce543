import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import SwitchboardBase
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardObservability
import SwitchboardStore

/// The consuming half of a worker process: the shell around ``ConsumerStateMachine`` — one librdkafka consumer and
/// the record tasks.
///
/// ``run()`` consumes the consumer's events in order (records, assignments, revokes, statistics, fatal errors) and
/// the circuit breaker's transitions, and feeds each to the state machine (under one lock), whose transitions return
/// actions that this shell carries out: records to start, offsets to store, partitions to pause or resume, tasks to
/// cancel, waiters to wake. The librdkafka calls among them run on ``KafkaControl``, one serial executor, outside the
/// lock. Waiting for a drain (a revoke, the shutdown) is awaiting an event the machine signals, never a sleep loop.
///
/// A record task runs one record, then goes on with the first record the machine starts when it finishes (of any
/// partition) instead of ending and starting a new task for it: per-record task creation and its lock traffic were a
/// large share of the no-op runtime's CPU. Record tasks are unstructured but tracked by the partition of the record
/// they run (retargeted under the lock when they go on): a revoke must cancel exactly the tasks of the revoked
/// partitions, which a task group cannot do for individual children; a task chosen for cancellation never goes on
/// with another record. Every tracked task has ended before ``run()`` returns.
///
/// Shutdown (SIGTERM): stop fetching and dispatching, let running records finish (failures hand off to retry tiers
/// at once) up to half the bound, cancel the rest (left uncommitted), commit finished work while still a steady
/// member, leave the group. The producer is a service of its own, listed before the worker in the ServiceGroup, so it
/// flushes after the drain. A fatal librdkafka error (consumer or producer) fails liveness and makes ``run()`` throw
/// after the same shutdown, so the process exits non-zero and its orchestrator restarts it.
public final class ConsumerWorker: Service, Sendable {
    private let configuration: WorkerConfiguration
    private let processor: RecordProcessor
    private let producer: KafkaProducer
    private let metrics: WorkerMetrics
    private let logger: Logger
    private let time: any TimeSource
    private let state: Mutex<Shell>
    private let control = KafkaControl()
    private let consumerBox = Mutex<KafkaConsumer?>(nil)
    private let shutdownSignal: AsyncEvent
    /// The fatal librdkafka error that ended this worker, if one did.
    private let fatalError = Mutex<KafkaError?>(nil)
    private let failed = AsyncEvent()

    /// A crash loses at most this much finished-but-unstored progress (redelivered, then skipped by the ledger).
    static let offsetFlushInterval: Duration = .milliseconds(100)

    /// The state machine and the tasks it asked for, under one lock.
    struct Shell {
        var machine: ConsumerStateMachine
        /// The running record tasks and retry-tier waits, by the machine's number.
        var tasks: [ConsumerStateMachine.TaskNumber: Task<Void, Never>] = [:]
        /// Per merchant waiting for its budget, the task that wakes its records.
        var wakers: [Merchant: Task<Void, Never>] = [:]
    }

    public init(
        configuration: WorkerConfiguration,
        handler: any EventHandler,
        ledger: any IdempotencyLedger,
        parking: any KeyParking,
        producer: KafkaProducer,
        metrics: WorkerMetrics,
        logger: Logger,
        time: any TimeSource = .system
    ) {
        self.configuration = configuration
        self.time = time
        self.producer = producer
        self.metrics = metrics
        self.logger = logger
        self.state = Mutex(
            Shell(
                machine: ConsumerStateMachine(
                    limits: .init(
                        maxRunning: configuration.maxInFlight,
                        maxBufferedPerPartition: configuration.maxBufferedPerPartition))))
        let shutdownSignal = AsyncEvent()
        self.shutdownSignal = shutdownSignal
        self.processor = RecordProcessor(
            group: configuration.group,
            topology: configuration.topology,
            decoder: EventDecoder(maximumRecordBytes: configuration.maximumRecordBytes),
            handler: handler,
            ledger: ledger,
            parking: parking,
            producer: producer,
            settings: configuration.retry,
            breaker: BreakerGate(settings: .init(threshold: configuration.breakerThreshold), time: time),
            metrics: metrics,
            logger: logger,
            shutdown: shutdownSignal,
            topicRoles: configuration.topology.index(configuration.sourceTopics),
            dependencies: { [configuration] in configuration.dependencies(of: $0) },
            time: time,
            ledgerAndParking: RecordProcessor.readTogether(ledger, parking)
        )
        for dependency in ProcessingFailure.Dependency.allCases { metrics.setCircuit(dependency, open: false) }
    }

    // MARK: Service

    public func run() async throws {
        let consumer = try KafkaConsumer(
            settings: configuration.kafka,
            groupId: configuration.group,
            clientId: "\(configuration.group)-\(ProcessInfo.processInfo.hostName)-\(getpid())",
            revokeWait: configuration.rebalanceDrainTimeout + .seconds(5),
            wakesFetchersOnResume: configuration.wakesFetchersOnResume,
            logger: logger
        )
        consumerBox.withLock { $0 = consumer }
        let topics = configuration.topology.consumedTopics(configuration.sourceTopics)
        try consumer.start(topics: topics)
        if let delay = Failpoint.duration(Failpoint.fatalKafkaAfter) {
            Task { [weak self] in
                try? await Task.sleep(for: delay)
                self?.injectFatalConsumerError()
            }
        }
        logger.info(
            "consuming",
            metadata: ["topics": "\(topics.joined(separator: ","))", LogKeys.group: "\(configuration.group)"])

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                // Until the consumer closes: its last events are the final revoke, which must still be served.
                group.addTask { await self.handleEvents(of: consumer) }
                group.addTask { await self.flushOffsetsPeriodically() }
                group.addTask { await self.watchProducer() }
                group.addTask { await self.followBreaker() }
                // Either a graceful shutdown or a fatal error ends the work.
                await withTaskGroup(of: Void.self) { stop in
                    stop.addTask { await self.shutdownSignal.wait() }
                    stop.addTask { await self.failed.wait() }
                    await stop.next()
                    stop.cancelAll()
                }
                await self.drainAndClose(consumer)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.shutdownSignal.signal()
        }
        if let fatal = fatalError.withLock({ $0 }) { throw fatal }
    }

    /// Applies the consumer's events in order until it closes.
    private func handleEvents(of consumer: KafkaConsumer) async {
        for await event in consumer.events {
            switch event {
            case .records(let records): received(records)
            case .assigned(let partitions): assigned(partitions)
            case .revoking(let partitions, let lost, let ticket):
                await revoke(partitions, lost: lost)
                ticket.complete()
            case .statistics(let statistics): statisticsArrived(statistics, consumer: consumer)
            case .commitRefused(let stage, _):
                state.withLock { $0.machine.commitRefused() }
                metrics.commitRefused(at: stage)
            case .fatal(let error): fail(error)
            }
        }
    }

    /// A fatal librdkafka error: nothing more can be consumed or produced. Liveness fails and the worker stops.
    private func fail(_ error: KafkaError) {
        let first = fatalError.withLock { current -> Bool in
            defer { current = current ?? error }
            return current == nil
        }
        guard first else { return }
        logger.critical(
            "librdkafka raised a fatal error; stopping so the process is restarted",
            metadata: [LogKeys.reason: "\(error)"])
        failed.signal()
    }

    private func watchProducer() async {
        await producer.failed.wait()
        if let failure = producer.failure { fail(failure) }
    }

    private func flushOffsetsPeriodically() async {
        while !Task.isCancelled {
            try? await time.sleep(for: Self.offsetFlushInterval)
            flushOffsets()
        }
    }

    /// Hands coalesced offsets to librdkafka, in order with every other control call.
    private func flushOffsets() {
        transition { $0.flush() }
    }

    private func drainAndClose(_ consumer: KafkaConsumer) async {
        let started = time.now
        logger.info("shutting down: stopping fetch and dispatch")
        if let stall = Failpoint.duration(Failpoint.slowShutdown) { try? await Task.sleep(for: stall) }
        transition { $0.shutdownBegan() }
        if await !drained(nil, within: configuration.shutdownTimeout / 2) {
            let unfinished = state.withLock { $0.machine.pendingWork(in: nil) }
            logger.warning("shutdown bound reached; \(unfinished) key lane(s) left uncommitted for redelivery")
            transition { $0.shutdownDrainTimedOut() }
        }
        if await !tasksEnded(within: .seconds(2)) {
            logger.warning("record tasks still running after their cancellation; leaving them")
        }
        // Commit what finished while still a steady member (retrying through a rebalance), then leave.
        flushOffsets()
        await control.barrier()
        let commitBound = max(
            min(configuration.shutdownTimeout - (time.now - started), .seconds(5)), .seconds(1))
        _ = await consumer.commitStored(within: commitBound)
        let remaining = max(configuration.shutdownTimeout - (time.now - started), .seconds(1))
        if await consumer.close(timeout: remaining) {
            logger.info("left the consumer group after committing finished work")
        } else {
            logger.error("consumer close timed out (brokers unreachable?)")
        }
    }

    // MARK: Events

    /// One lock for the whole batch: the event loop and finishing records contend for the state.
    private func received(_ records: [KafkaRecord]) {
        let now = time.now
        let arrivals = records.map { record in (record: record, notBefore: notBefore(record, now: now)) }
        transition { $0.received(arrivals, now: now) }
    }

    /// When a retry-tier record becomes due (nil: now). Never later than its tier's delay from now: a due time in the
    /// year 9999 (a forged or corrupt header) must not hold its key, or its partition's committed offset, for good.
    private func notBefore(_ record: KafkaRecord, now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard case .retry(let tier)? = processor.topicRoles[record.topic]?.role, let due = FailureHeaders.due(record)
        else { return nil }
        let wait = min(due.timeIntervalSince(time.date), configuration.topology.tiers[tier].seconds)
        return wait > 0 ? now.advanced(by: .milliseconds(Int64(wait * 1000))) : nil
    }

    private func assigned(_ partitions: [TopicPartition]) {
        transition { $0.assigned(partitions) }
        metrics.rebalanced(assignedCount: state.withLock { $0.machine.assignedCount })
    }

    /// Partitions are being revoked; librdkafka waits until this returns. Lets their running records finish
    /// (bounded), stores what finished, and forgets them; a lost assignment only forgets.
    private func revoke(_ partitions: [TopicPartition], lost: Bool) async {
        transition { $0.revokeBegan(partitions) }
        if !lost, await !drained(partitions, within: configuration.rebalanceDrainTimeout) {
            logger.warning(
                "revoke: drain bound reached; unfinished records of the revoked partitions are redelivered to their next owner"
            )
        }
        transition { $0.revokeEnded(partitions, lost: lost) }  // stored before the callback commits and unassigns
        await control.barrier()
        for partition in partitions { metrics.removePartition(partition) }
        metrics.rebalanced(assignedCount: state.withLock { $0.machine.assignedCount })
    }

    private func statisticsArrived(_ statistics: KafkaStatistics, consumer: KafkaConsumer) {
        let now = time.date
        let owned = statistics.ownedPartitions.map { ($0.0, committedLag: $0.1.committedLag) }
        let (lags, backlog) = state.withLock { state in
            (state.machine.lag(owned, now: now), state.machine.waitingForBudget())
        }
        for lag in lags {
            metrics.setLag(lag.topicPartition, records: lag.records, seconds: lag.seconds)
            metrics.setBuffered(lag.topicPartition, lag.buffered)
        }
        metrics.setGroupLag(lags.reduce(0) { $0 + $1.records })
        metrics.setBudgetBacklog(backlog.map { ($0.merchant, $0.waiting, $0.oldest) }, now: now)
        metrics.setPollLoopAge(consumer.timeSinceLastPoll)
    }

    // MARK: Circuit breaker

    /// The breaker's transitions, as events in the order they happened.
    private func followBreaker() async {
        for await transition in processor.breaker.transitions { circuitChanged(transition) }
    }

    private func circuitChanged(_ change: CircuitBreaker.Transition) {
        switch change {
        case .opened(let dependency):
            let sources = configuration.sourceTopics.filter { configuration.dependencies(of: $0).contains(dependency) }
            logger.error(
                "circuit opened: \(dependency.rawValue) is failing for everyone; pausing consumption and probing",
                metadata: ["paused_topics": "\(sources.joined(separator: ","))"]
            )
            metrics.setCircuit(dependency, open: true)
            let topics = Set(configuration.topology.consumedTopics(sources))
            transition { $0.circuitChanged(sources == configuration.sourceTopics ? .all : .topics(topics)) }
        case .closed:
            logger.notice("circuit closed: dependency recovered; resuming consumption")
            for dependency in ProcessingFailure.Dependency.allCases { metrics.setCircuit(dependency, open: false) }
            transition { $0.circuitChanged(.none) }
        }
    }

    // MARK: Carrying out the machine's actions

    /// Runs `event` on the state machine under the lock and carries out its actions: librdkafka calls are enqueued
    /// on ``KafkaControl`` in order, tasks start and are cancelled, waiters are woken. Returns the record the calling
    /// task goes on with, when `event` hands it one.
    @discardableResult
    private func transition(
        _ event: (inout ConsumerStateMachine) -> (
            actions: [ConsumerStateMachine.Action], next: DispatchStateMachine.Dispatch?
        )
    ) -> DispatchStateMachine.Dispatch? {
        let consumer = consumerBox.withLock { $0 }
        let (next, running, later) = state.withLock {
            state -> (DispatchStateMachine.Dispatch?, Int, [ConsumerStateMachine.Action]) in
            let (actions, next) = event(&state.machine)
            var later: [ConsumerStateMachine.Action] = []
            for action in actions {
                switch action {
                case .pause(let partitions): if let consumer { control.enqueue { consumer.pause(partitions) } }
                case .resume(let partitions): if let consumer { control.enqueue { consumer.resume(partitions) } }
                case .storeOffsets(let offsets): if let consumer { control.enqueue { consumer.storeOffsets(offsets) } }
                case .start(let number, let dispatch): state.tasks[number] = startTask(number, running: dispatch)
                case .delay(let number, let dispatch, let until):
                    state.tasks[number] = delayTask(number, dispatch, until: until)
                case .wake(let merchant, let at):
                    state.wakers[merchant]?.cancel()
                    state.wakers[merchant] = wakeTask(merchant, at: at)
                case .cancelWakes:
                    for waker in state.wakers.values { waker.cancel() }
                    state.wakers = [:]
                case .cancel(let numbers):
                    for number in numbers { state.tasks[number]?.cancel() }
                case .forget(let number): state.tasks[number] = nil
                case .signal: later.append(action)
                }
            }
            return (next, state.machine.running, later)
        }
        for case .signal(let events) in later { for event in events { event.signal() } }
        metrics.setInFlight(running)
        return next
    }

    /// ``transition(_:)`` for an event that hands no record to its caller.
    private func transition(_ event: (inout ConsumerStateMachine) -> [ConsumerStateMachine.Action]) {
        transition { machine in (event(&machine), nil) }
    }

    /// A record task: it runs `dispatch`, then each record handed to it on finishing (see the type's comment).
    /// Made under the lock, so it is tracked before it can end; one chosen for cancellation meanwhile is cancelled.
    private func startTask(_ number: ConsumerStateMachine.TaskNumber, running dispatch: DispatchStateMachine.Dispatch)
        -> Task<Void, Never>
    {
        Task { [self] in
            var current: DispatchStateMachine.Dispatch? = dispatch
            while let dispatch = current {
                current = await runRecord(dispatch, inTask: number)
            }
            transition { $0.taskEnded(number) }
        }
    }

    /// Runs one record in record task `task`; returns the record the task goes on with, if any.
    private func runRecord(_ dispatch: DispatchStateMachine.Dispatch, inTask task: ConsumerStateMachine.TaskNumber)
        async
        -> DispatchStateMachine.Dispatch?
    {
        let started = time.now
        var run = await processor.process(dispatch.record)
        if case .throttled(let throttled) = run {
            if let service = throttled.failure.refusedCredentials {
                metrics.setCredentialsHealth(account: dispatch.merchant.name, service: service, accepted: false)
            }
            if state.withLock({ $0.machine.mayHold(dispatch) }) {
                return transition { $0.throttled(dispatch, inTask: task, wait: throttled.wait, now: time.now) }
            }
            run = RecordRun(await processor.deferToTier(throttled))
        }
        guard case .finished(let outcome) = run else {
            transition { $0.abandoned(dispatch) }
            return nil
        }
        let now = time.now
        metrics.recordFinished(
            topic: dispatch.record.topic, outcome: outcome, duration: now - started,
            eventTime: dispatch.record.timestamp)
        metrics.accountRecordFinished(
            account: dispatch.merchant.name, outcome: outcome, eventTime: dispatch.record.timestamp)
        if outcome == .processed { metrics.credentialsWork(account: dispatch.merchant.name) }
        return transition { $0.finished(dispatch, inTask: task, now: now) }
    }

    /// A retry-tier record's wait for its due time.
    private func delayTask(
        _ number: ConsumerStateMachine.TaskNumber, _ dispatch: DispatchStateMachine.Dispatch,
        until: ContinuousClock.Instant
    ) -> Task<Void, Never> {
        Task { [self] in
            try? await time.sleep(until: until)
            transition { $0.delayEnded(number, dispatch, now: time.now) }
        }
    }

    /// Wakes a merchant's waiting records when its budget has tokens again. Not tied to a partition: a revoke must
    /// not leave the merchant's records in other partitions waiting for good.
    private func wakeTask(_ merchant: Merchant, at: ContinuousClock.Instant) -> Task<Void, Never> {
        Task { [self] in
            try? await time.sleep(until: at)
            guard !Task.isCancelled else { return }
            state.withLock { _ = $0.wakers.removeValue(forKey: merchant) }
            transition { $0.budgetFreed(merchant) }
        }
    }

    /// Waits until `partitions` (nil: all) have no work left, at most `bound`; false when the bound was reached.
    private func drained(_ partitions: [TopicPartition]?, within bound: Duration) async -> Bool {
        let event = AsyncEvent()
        guard state.withLock({ $0.machine.waitForDrain(of: partitions, event) }) else { return true }
        let signalled = await event.wait(timeout: bound, time: time)
        state.withLock { $0.machine.stopWaiting(event) }
        return signalled
    }

    /// Waits until every task has ended, at most `bound`.
    private func tasksEnded(within bound: Duration) async -> Bool {
        let event = AsyncEvent()
        guard state.withLock({ $0.machine.waitForIdle(event) }) else { return true }
        return await event.wait(timeout: bound, time: time)
    }

    // MARK: Health

    /// Offset commits the coordinator refused on revoke or at shutdown (finished work the next owner redelivers).
    public var refusedCommitCount: Int { state.withLock { $0.machine.refusedCommits } }

    /// Key lanes the last shutdown left unfinished because its drain bound ran out (their records are redelivered).
    public var abandonedAtShutdownCount: Int { state.withLock { $0.machine.abandonedAtShutdown } }

    /// The poll loop ran recently (or has not started yet) and librdkafka raised no fatal error.
    public var isLive: Bool {
        guard fatalError.withLock({ $0 }) == nil, !producer.failed.isSignalled else { return false }
        guard let consumer = consumerBox.withLock({ $0 }) else { return true }
        return !consumer.hasFailed
            && consumer.timeSinceLastPoll < max(.seconds(30), configuration.rebalanceDrainTimeout * 3)
    }

    /// In a stable group (assigned or idle) and not shutting down.
    public var isReady: Bool {
        guard !state.withLock({ $0.machine.shuttingDown }), let consumer = consumerBox.withLock({ $0 }) else {
            return false
        }
        return consumer.groupState?.isStable == true
    }

    /// Makes librdkafka raise a fatal error on this worker's consumer (tests only).
    func injectFatalConsumerError() {
        consumerBox.withLock { $0 }?.injectFatalError("injected by a test")
    }
}
