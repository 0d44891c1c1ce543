import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import SwitchboardBase
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardObservability
import SwitchboardStore

/// The consuming half of a worker process: one librdkafka consumer, the dispatch state machine, and the record tasks.
///
/// ``run()`` consumes the consumer's events in order (records, assignments, revokes, statistics, fatal errors) and
/// feeds them to one state (``State``, under one lock) whose transitions return actions: records to start, offsets
/// to store, partitions to pause or resume. The librdkafka calls among them run on ``KafkaControl``, one serial
/// executor, outside the lock. Waiting for a drain (a revoke, the shutdown) is awaiting an event the finishing
/// record signals, never a sleep loop.
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
    private let state: Mutex<State>
    private let control = KafkaControl()
    private let consumerBox = Mutex<KafkaConsumer?>(nil)
    private let shutdownSignal: AsyncEvent
    /// The fatal librdkafka error that ended this worker, if one did.
    private let fatalError = Mutex<KafkaError?>(nil)
    private let failed = AsyncEvent()

    /// A crash loses at most this much finished-but-unstored progress (redelivered, then skipped by the ledger).
    static let offsetFlushInterval: Duration = .milliseconds(100)

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
            State(
                limits: .init(
                    maxRunning: configuration.maxInFlight,
                    maxBufferedPerPartition: configuration.maxBufferedPerPartition)))
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
        processor.breaker.observe { [weak self] transition in self?.circuitChanged(transition) }
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
                await revoke(partitions, lost: lost, consumer: consumer)
                ticket.complete()
            case .statistics(let statistics): statisticsArrived(statistics, consumer: consumer)
            case .commitRefused(let stage, _):
                state.withLock { $0.refusedCommits += 1 }
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
        let consumer = consumerBox.withLock { $0 }
        state.withLock { state in
            guard !state.pendingOffsets.isEmpty, let consumer else { return }
            let offsets = state.pendingOffsets.map { ($0.key, $0.value) }
            state.pendingOffsets = [:]
            control.enqueue { consumer.storeOffsets(offsets) }
        }
    }

    private func drainAndClose(_ consumer: KafkaConsumer) async {
        let started = time.now
        logger.info("shutting down: stopping fetch and dispatch")
        if let stall = Failpoint.duration(Failpoint.slowShutdown) { try? await Task.sleep(for: stall) }
        state.withLock { $0.shuttingDown = true }
        apply { $0.stop() }
        cancelTasks(where: { $0.delayed })
        for waker in state.withLock({ $0.wakers.values }) { waker.cancel() }
        if await !drained(nil, within: configuration.shutdownTimeout / 2) {
            let unfinished = state.withLock { state in
                state.abandonedAtShutdown = state.machine.pendingWork
                return state.abandonedAtShutdown
            }
            logger.warning("shutdown bound reached; \(unfinished) key lane(s) left uncommitted for redelivery")
            cancelTasks(where: { _ in true })
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
        let arrivals = records.map { record in (record, notBefore(record, now: now)) }
        apply { machine in
            arrivals.flatMap { record, notBefore in machine.receive(record, notBefore: notBefore, now: now) }
        }
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
        apply { $0.assign(partitions) }
        metrics.rebalanced(assignedCount: state.withLock { $0.machine.assigned.count })
    }

    /// Partitions are being revoked; librdkafka waits until this returns. Lets their running records finish
    /// (bounded), stores what finished, and forgets them; a lost assignment only forgets.
    private func revoke(_ partitions: [TopicPartition], lost: Bool, consumer: KafkaConsumer) async {
        apply { machine -> [DispatchStateMachine.Action] in
            _ = machine.beginRevoke(partitions)
            return []
        }
        let revoked = Set(partitions)
        cancelTasks(where: { $0.delayed && revoked.contains($0.topicPartition) })
        if !lost, await !drained(partitions, within: configuration.rebalanceDrainTimeout) {
            logger.warning(
                "revoke: drain bound reached; unfinished records of the revoked partitions are redelivered to their next owner"
            )
        }
        cancelTasks(where: { revoked.contains($0.topicPartition) })
        let count = state.withLock { state in
            let offsets = state.machine.finishRevoke(partitions, lost: lost)
            for partition in partitions {
                state.pendingOffsets[partition] = nil
                state.behindSince[partition] = nil
            }
            control.enqueue { consumer.storeOffsets(offsets) }  // before the callback commits and unassigns
            return state.machine.assigned.count
        }
        await control.barrier()
        for partition in partitions { metrics.removePartition(partition) }
        metrics.rebalanced(assignedCount: count)
    }

    private func statisticsArrived(_ statistics: KafkaStatistics, consumer: KafkaConsumer) {
        let now = time.date
        let lags = state.withLock { state -> [(TopicPartition, Int64, Double, Int)] in
            let summary = state.machine.windowSummary()
            return statistics.ownedPartitions.compactMap { topicPartition, partition in
                guard let window = summary[topicPartition], let lag = partition.committedLag else { return nil }
                let seconds: Double
                if lag == 0 {
                    state.behindSince[topicPartition] = now
                    seconds = 0
                } else if let oldest = window.oldest {
                    seconds = max(0, now.timeIntervalSince(oldest))
                } else {
                    let behindSince = state.behindSince[topicPartition] ?? now
                    state.behindSince[topicPartition] = behindSince
                    seconds = now.timeIntervalSince(behindSince)
                }
                return (topicPartition, lag, seconds, window.unfinished)
            }
        }
        for (topicPartition, lag, seconds, buffered) in lags {
            metrics.setLag(topicPartition, records: lag, seconds: seconds)
            metrics.setBuffered(topicPartition, buffered)
        }
        metrics.setGroupLag(lags.reduce(0) { $0 + $1.1 })
        metrics.setBudgetBacklog(
            state.withLock { $0.machine.waitingForBudget() }.map { ($0.merchant, $0.waiting, $0.oldest) }, now: now)
        metrics.setPollLoopAge(consumer.timeSinceLastPoll)
    }

    // MARK: Circuit breaker

    private func circuitChanged(_ transition: CircuitBreaker.Transition) {
        switch transition {
        case .opened(let dependency):
            let sources = configuration.sourceTopics.filter { configuration.dependencies(of: $0).contains(dependency) }
            logger.error(
                "circuit opened: \(dependency.rawValue) is failing for everyone; pausing consumption and probing",
                metadata: ["paused_topics": "\(sources.joined(separator: ","))"]
            )
            metrics.setCircuit(dependency, open: true)
            let topics = Set(configuration.topology.consumedTopics(sources))
            apply { $0.suspend(sources == configuration.sourceTopics ? .all : .topics(topics)) }
        case .closed:
            logger.notice("circuit closed: dependency recovered; resuming consumption")
            for dependency in ProcessingFailure.Dependency.allCases { metrics.setCircuit(dependency, open: false) }
            apply { $0.suspend(false) }
        }
    }

    // MARK: Actions

    /// Applies a transition under the lock: pause and resume are enqueued on ``KafkaControl`` in order, offsets are
    /// coalesced for the next flush, drain waiters whose partitions emptied are woken, and record tasks start after
    /// the lock is released. With `continuing` (a record task's number), the first record started is returned for
    /// that task to run next instead of getting a task of its own, unless the task is chosen for cancellation.
    @discardableResult
    private func apply(
        continuing task: UInt64? = nil, _ transition: (inout DispatchStateMachine) -> [DispatchStateMachine.Action]
    ) -> DispatchStateMachine.Dispatch? {
        let consumer = consumerBox.withLock { $0 }
        let (deferred, next, running, drained) = state.withLock {
            state -> ([DispatchStateMachine.Action], DispatchStateMachine.Dispatch?, Int, [AsyncEvent]) in
            let actions = transition(&state.machine)
            var deferred: [DispatchStateMachine.Action] = []
            var next: DispatchStateMachine.Dispatch?
            for action in actions {
                switch action {
                case .pause(let partitions): if let consumer { control.enqueue { consumer.pause(partitions) } }
                case .resume(let partitions): if let consumer { control.enqueue { consumer.resume(partitions) } }
                case .storeOffset(let partition, let offset): state.pendingOffsets[partition] = offset
                case .wake(let merchant, let at): scheduleWake(merchant, at: at, in: &state)
                case .start(let dispatch):
                    if next == nil, let task, state.retarget(task, to: dispatch) {
                        next = dispatch
                    } else {
                        deferred.append(action)
                    }
                case .delay: deferred.append(action)
                }
            }
            return (deferred, next, state.machine.running, state.takeDrainedWaiters())
        }
        for event in drained { event.signal() }
        metrics.setInFlight(running)
        for action in deferred {
            switch action {
            case .start(let dispatch): start(dispatch)
            case .delay(let dispatch, let until): delay(dispatch, until: until)
            default: break
            }
        }
        return next
    }

    /// Starts a record task: it runs `dispatch`, then each record handed to it on finishing (see the type's comment).
    private func start(_ dispatch: DispatchStateMachine.Dispatch) {
        state.withLock { state in
            _ = state.track(dispatch, delayed: false) { number in
                Task { [self] in
                    var current: DispatchStateMachine.Dispatch? = dispatch
                    while let dispatch = current {
                        current = await runRecord(dispatch, inTask: number)
                    }
                    taskEnded(number)
                }
            }
        }
    }

    /// Runs one record in record task `task`; returns the record the task goes on with, if any.
    private func runRecord(_ dispatch: DispatchStateMachine.Dispatch, inTask task: UInt64) async
        -> DispatchStateMachine.Dispatch?
    {
        let started = time.now
        var run = await processor.process(dispatch.record)
        if case .throttled(let throttled) = run {
            if let service = throttled.failure.refusedCredentials {
                metrics.setCredentialsHealth(account: dispatch.merchant.name, service: service, accepted: false)
            }
            if state.withLock({ $0.machine.mayHold(dispatch) }) {
                return apply(continuing: task) { $0.yield(dispatch, wait: throttled.wait, now: time.now) }
            }
            run = RecordRun(await processor.deferToTier(throttled))
        }
        guard case .finished(let outcome) = run else {
            apply { $0.abandon(dispatch) }
            return nil
        }
        let now = time.now
        metrics.recordFinished(
            topic: dispatch.record.topic, outcome: outcome, duration: now - started,
            eventTime: dispatch.record.timestamp)
        metrics.accountRecordFinished(
            account: dispatch.merchant.name, outcome: outcome, eventTime: dispatch.record.timestamp)
        if outcome == .processed { metrics.credentialsWork(account: dispatch.merchant.name) }
        return apply(continuing: task) { $0.finish(dispatch, now: now) }
    }

    private func delay(_ dispatch: DispatchStateMachine.Dispatch, until: ContinuousClock.Instant) {
        state.withLock { state in
            _ = state.track(dispatch, delayed: true) { number in
                Task { [self] in
                    try? await time.sleep(until: until)
                    taskEnded(number)
                    guard !Task.isCancelled else { return }
                    apply { $0.due(dispatch, now: time.now) }
                }
            }
        }
    }

    /// Wakes a merchant's waiting records when its budget has tokens again. Not tied to a partition: a revoke must
    /// not leave the merchant's records in other partitions waiting for good.
    private func scheduleWake(_ merchant: Merchant, at: ContinuousClock.Instant, in state: inout State) {
        state.wakers[merchant]?.cancel()
        state.wakers[merchant] = Task { [self] in
            try? await time.sleep(until: at)
            guard !Task.isCancelled else { return }
            self.state.withLock { _ = $0.wakers.removeValue(forKey: merchant) }
            apply { $0.budgetFreed(merchant) }
        }
    }

    private func taskEnded(_ number: UInt64) {
        for event in state.withLock({ $0.removeTask(number) }) { event.signal() }
    }

    /// Cancels the tasks `predicate` selects; chosen under the lock, so none of them goes on with another record.
    private func cancelTasks(where predicate: @Sendable (TrackedTask) -> Bool) {
        for task in state.withLock({ $0.chooseForCancellation(where: predicate) }) { task.cancel() }
    }

    /// Waits until `partitions` (nil: all) have no work left, at most `bound`; false when the bound was reached.
    private func drained(_ partitions: [TopicPartition]?, within bound: Duration) async -> Bool {
        let event = AsyncEvent()
        let done = state.withLock { state -> Bool in
            guard state.pendingWork(in: partitions) > 0 else { return true }
            state.drainWaiters.append((partitions, event))
            return false
        }
        if done { return true }
        let signalled = await event.wait(timeout: bound, time: time)
        state.withLock { state in state.drainWaiters.removeAll { $0.event === event } }
        return signalled
    }

    /// Waits until every record task has ended, at most `bound`.
    private func tasksEnded(within bound: Duration) async -> Bool {
        let event = AsyncEvent()
        let idle = state.withLock { state -> Bool in
            guard !state.tasks.isEmpty else { return true }
            state.idleWaiters.append(event)
            return false
        }
        return idle ? true : await event.wait(timeout: bound, time: time)
    }

    // MARK: Health

    /// Offset commits the coordinator refused on revoke or at shutdown (finished work the next owner redelivers).
    public var refusedCommitCount: Int { state.withLock { $0.refusedCommits } }

    /// Key lanes the last shutdown left unfinished because its drain bound ran out (their records are redelivered).
    public var abandonedAtShutdownCount: Int { state.withLock { $0.abandonedAtShutdown } }

    /// The poll loop ran recently (or has not started yet) and librdkafka raised no fatal error.
    public var isLive: Bool {
        guard fatalError.withLock({ $0 }) == nil, !producer.failed.isSignalled else { return false }
        guard let consumer = consumerBox.withLock({ $0 }) else { return true }
        return !consumer.hasFailed
            && consumer.timeSinceLastPoll < max(.seconds(30), configuration.rebalanceDrainTimeout * 3)
    }

    /// In a stable group (assigned or idle) and not shutting down.
    public var isReady: Bool {
        guard !state.withLock({ $0.shuttingDown }), let consumer = consumerBox.withLock({ $0 }) else { return false }
        return consumer.groupState?.isStable == true
    }

    /// Makes librdkafka raise a fatal error on this worker's consumer (tests only).
    func injectFatalConsumerError() {
        consumerBox.withLock { $0 }?.injectFatalError("injected by a test")
    }
}
