import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The consuming half of a worker process: one librdkafka consumer, the dispatch state machine, and the record tasks.
///
/// A record task runs one record, then goes on with the next record the machine starts in the same partition (its
/// key's follower, usually) instead of ending and starting a new task for it: per-record task creation was a large
/// share of the no-op runtime's CPU. Record tasks are unstructured but tracked per partition: a revoke must cancel
/// exactly the tasks of the revoked partitions, which a task group cannot do for individual children. Every tracked
/// task is awaited before ``run()`` returns.
///
/// Shutdown (SIGTERM): stop fetching and dispatching, let running records finish (failures hand off to retry tiers
/// at once) up to half the bound, cancel the rest (left uncommitted), leave the group committing finished work,
/// flush the producer.
public final class ConsumerWorker: Service, Sendable {
    /// A tracked task: the partition (and assignment generation) whose records it runs, and a unique number.
    private struct TaskKey: Hashable {
        var topicPartition: TopicPartition
        var generation: UInt64
        var number: UInt64
        var delayed: Bool
    }

    private let configuration: WorkerConfiguration
    private let processor: RecordProcessor
    private let producer: KafkaProducer
    private let metrics: WorkerMetrics
    private let logger: Logger
    /// The dispatch state and the offsets it asked to store, under one lock.
    private let machine: Mutex<DispatchState>

    private struct DispatchState {
        var machine: DispatchStateMachine
        /// Offsets to store, coalesced per partition and flushed every ``offsetFlushInterval`` and at commit points.
        var pendingOffsets: [TopicPartition: Int64] = [:]
    }

    /// A crash loses at most this much finished-but-unstored progress (redelivered, then skipped by the ledger).
    static let offsetFlushInterval: Duration = .milliseconds(100)
    private let tasks = Mutex<[TaskKey: Task<Void, Never>]>([:])
    private let taskNumbers = Atomic<UInt64>(0)
    private let consumerBox = Mutex<KafkaConsumer?>(nil)
    private let shutdownSignal: AsyncEvent
    private let lagState = Mutex<[TopicPartition: Date]>([:])
    private let shuttingDown = Atomic<Bool>(false)
    private let refusedCommits = Atomic<Int>(0)

    public init(
        configuration: WorkerConfiguration,
        handler: any EventHandler,
        ledger: any IdempotencyLedger,
        parking: any KeyParking,
        producer: KafkaProducer,
        metrics: WorkerMetrics,
        logger: Logger
    ) {
        self.configuration = configuration
        self.producer = producer
        self.metrics = metrics
        self.logger = logger
        self.machine = Mutex(DispatchState(machine: DispatchStateMachine(limits: .init(
            maxRunning: configuration.maxInFlight,
            maxBufferedPerPartition: configuration.maxBufferedPerPartition
        ))))
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
            breaker: BreakerGate(settings: .init(threshold: configuration.breakerThreshold)),
            metrics: metrics,
            logger: logger,
            shutdown: shutdownSignal,
            topicRoles: configuration.topology.index(configuration.sourceTopics),
            dependencies: { [configuration] in configuration.dependencies(of: $0) }
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
            callbacks: .init(
                records: { [weak self] records in self?.received(records) },
                assigned: { [weak self] partitions in self?.assigned(partitions) },
                revoking: { [weak self] partitions, lost in self?.revoking(partitions, lost: lost) },
                statistics: { [weak self] statistics in self?.statisticsArrived(statistics) },
                commitRefused: { [weak self] stage, _ in self?.commitRefused(at: stage) }
            ),
            wakesFetchersOnResume: configuration.wakesFetchersOnResume,
            logger: logger
        )
        consumerBox.withLock { $0 = consumer }
        let topics = configuration.topology.consumedTopics(configuration.sourceTopics)
        try consumer.start(topics: topics)
        logger.info("consuming", metadata: ["topics": "\(topics.joined(separator: ","))", LogKeys.group: "\(configuration.group)"])

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.flushOffsetsPeriodically() }
                await shutdownSignal.wait()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.shutdownSignal.signal()
        }
        await drainAndClose(consumer)
    }

    private func flushOffsetsPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.offsetFlushInterval)
            flushOffsets()
        }
    }

    /// Hands coalesced offsets to librdkafka (under the lock, so a flush never lands after a revoke's final store).
    private func flushOffsets() {
        let consumer = consumerBox.withLock { $0 }
        machine.withLock { state in
            guard !state.pendingOffsets.isEmpty else { return }
            consumer?.storeOffsets(state.pendingOffsets.map { ($0.key, $0.value) })
            state.pendingOffsets = [:]
        }
    }

    private func drainAndClose(_ consumer: KafkaConsumer) async {
        shuttingDown.store(true, ordering: .relaxed)
        let started = ContinuousClock.now
        logger.info("shutting down: stopping fetch and dispatch")
        withMachine { $0.stop() }
        cancelTasks(where: { $0.delayed })
        let drainBound = configuration.shutdownTimeout / 2
        while machine.withLock({ $0.machine.pendingWork }) > 0 && ContinuousClock.now - started < drainBound {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let unfinished = machine.withLock { $0.machine.pendingWork }
        if unfinished > 0 {
            logger.warning("shutdown bound reached; \(unfinished) key lane(s) left uncommitted for redelivery")
            cancelTasks(where: { _ in true })
        }
        await waitForTasks(timeout: .seconds(2))
        // Commit what finished while still a steady member (retrying through a rebalance), then leave.
        flushOffsets()
        let commitBound = max(min(configuration.shutdownTimeout - (ContinuousClock.now - started), .seconds(5)), .seconds(1))
        _ = await consumer.commitStored(within: commitBound)
        let remaining = max(configuration.shutdownTimeout - (ContinuousClock.now - started), .seconds(1))
        if await consumer.close(timeout: remaining) {
            logger.info("left the consumer group after committing finished work")
        } else {
            logger.error("consumer close timed out (brokers unreachable?)")
        }
        await producer.shutdown(timeout: .seconds(5))
    }

    // MARK: Poll-thread callbacks

    /// One lock for the whole batch: the poll thread and finishing records contend for the machine.
    private func received(_ records: [KafkaRecord]) {
        let now = ContinuousClock.now
        let arrivals = records.map { record in (record, notBefore(record, now: now)) }
        withMachine { machine in
            arrivals.flatMap { record, notBefore in machine.receive(record, notBefore: notBefore, now: now) }
        }
    }

    /// When a retry-tier record becomes due (nil: now). Never later than its tier's delay from now: a due time in the
    /// year 9999 (a forged or corrupt header) must not hold its key, or its partition's committed offset, for good.
    private func notBefore(_ record: KafkaRecord, now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard case .retry(let tier)? = processor.topicRoles[record.topic]?.role, let due = FailureHeaders.due(record) else { return nil }
        let wait = min(due.timeIntervalSinceNow, configuration.topology.tiers[tier].seconds)
        return wait > 0 ? now.advanced(by: .milliseconds(Int64(wait * 1000))) : nil
    }

    private func assigned(_ partitions: [TopicPartition]) {
        let count = withMachineCount { machine in
            let actions = machine.assign(partitions)
            return (actions, machine.assigned.count)
        }
        metrics.rebalanced(assignedCount: count)
    }

    /// Runs on the poll thread inside the rebalance callback: blocking here holds the revoke until in-flight work of
    /// these partitions finished (bounded), so their offsets are stored and committed before another member takes over.
    private func revoking(_ partitions: [TopicPartition], lost: Bool) {
        let pending = machine.withLock { $0.machine.beginRevoke(partitions) }
        let revoked = Set(partitions)
        cancelTasks(where: { $0.delayed && revoked.contains($0.topicPartition) })
        if !lost && pending > 0 {
            let deadline = ContinuousClock.now + configuration.rebalanceDrainTimeout
            while machine.withLock({ $0.machine.pendingWork(in: partitions) }) > 0 && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        cancelTasks(where: { revoked.contains($0.topicPartition) })
        let consumer = consumerBox.withLock { $0 }
        let count = machine.withLock { state in
            let offsets = state.machine.finishRevoke(partitions, lost: lost)
            for partition in partitions { state.pendingOffsets[partition] = nil }
            consumer?.storeOffsets(offsets)  // before the callback commits and unassigns
            return state.machine.assigned.count
        }
        for partition in partitions { metrics.removePartition(partition) }
        lagState.withLock { state in partitions.forEach { state[$0] = nil } }
        metrics.rebalanced(assignedCount: count)
    }

    private func statisticsArrived(_ statistics: KafkaStatistics) {
        let summary = machine.withLock { $0.machine.windowSummary() }
        let now = Date()
        var total: Int64 = 0
        for (topicPartition, partition) in statistics.ownedPartitions {
            guard let window = summary[topicPartition], let lag = partition.committedLag else { continue }
            let seconds: Double = lagState.withLock { state in
                if lag == 0 {
                    state[topicPartition] = now
                    return 0
                }
                if let oldest = window.oldest { return max(0, now.timeIntervalSince(oldest)) }
                let behindSince = state[topicPartition] ?? now
                state[topicPartition] = behindSince
                return now.timeIntervalSince(behindSince)
            }
            metrics.setLag(topicPartition, records: lag, seconds: seconds)
            metrics.setBuffered(topicPartition, window.unfinished)
            total += lag
        }
        metrics.setGroupLag(total)
        if let consumer = consumerBox.withLock({ $0 }) { metrics.setPollLoopAge(consumer.timeSinceLastPoll) }
    }

    private func commitRefused(at stage: String) {
        refusedCommits.add(1, ordering: .relaxed)
        metrics.commitRefused(at: stage)
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
            withMachine { $0.suspend(sources == configuration.sourceTopics ? .all : .topics(topics)) }
        case .closed:
            logger.notice("circuit closed: dependency recovered; resuming consumption")
            for dependency in ProcessingFailure.Dependency.allCases { metrics.setCircuit(dependency, open: false) }
            withMachine { $0.suspend(false) }
        }
    }

    // MARK: Actions

    /// Applies a state-machine transition: pause and resume reach librdkafka under the lock, in order; offsets to
    /// store are coalesced for the next flush; record tasks start after the lock is released.
    private func withMachine(_ transition: (inout DispatchStateMachine) -> [DispatchStateMachine.Action]) {
        _ = withMachineCount { machine in (transition(&machine), 0) }
    }

    private func withMachineCount(_ transition: (inout DispatchStateMachine) -> ([DispatchStateMachine.Action], Int)) -> Int {
        apply(transition, continuing: nil).count
    }

    /// ``withMachine(_:)`` for a finishing record task: the first record the transition starts in the task's own
    /// partition and generation is returned for the task to run next instead of getting a task of its own.
    private func withMachine(
        continuing task: TaskKey,
        _ transition: (inout DispatchStateMachine) -> [DispatchStateMachine.Action]
    ) -> DispatchStateMachine.Dispatch? {
        apply({ machine in (transition(&machine), 0) }, continuing: task).next
    }

    private func apply(
        _ transition: (inout DispatchStateMachine) -> ([DispatchStateMachine.Action], Int),
        continuing task: TaskKey?
    ) -> (count: Int, next: DispatchStateMachine.Dispatch?) {
        let consumer = consumerBox.withLock { $0 }
        let (deferred, count, running) = machine.withLock { state -> ([DispatchStateMachine.Action], Int, Int) in
            let (actions, count) = transition(&state.machine)
            var deferred: [DispatchStateMachine.Action] = []
            for action in actions {
                switch action {
                case .pause(let partitions): consumer?.pause(partitions)
                case .resume(let partitions): consumer?.resume(partitions)
                case .storeOffset(let partition, let offset): state.pendingOffsets[partition] = offset
                case .start, .delay: deferred.append(action)
                }
            }
            return (deferred, count, state.machine.running)
        }
        metrics.setInFlight(running)
        var next: DispatchStateMachine.Dispatch?
        for action in deferred {
            switch action {
            case .start(let dispatch):
                if next == nil, let task, task.topicPartition == dispatch.topicPartition, task.generation == dispatch.generation {
                    next = dispatch
                } else {
                    start(dispatch)
                }
            case .delay(let dispatch, let until): delay(dispatch, until: until)
            default: break
            }
        }
        return (count, next)
    }

    private func taskKey(for dispatch: DispatchStateMachine.Dispatch, delayed: Bool) -> TaskKey {
        TaskKey(
            topicPartition: dispatch.topicPartition, generation: dispatch.generation,
            number: taskNumbers.add(1, ordering: .relaxed).newValue, delayed: delayed
        )
    }

    /// Starts a record task: it runs `dispatch`, then each record handed to it on finishing (see the type's comment).
    private func start(_ dispatch: DispatchStateMachine.Dispatch) {
        let key = taskKey(for: dispatch, delayed: false)
        tasks.withLock { registry in
            registry[key] = Task { [self] in
                var current: DispatchStateMachine.Dispatch? = dispatch
                while let dispatch = current {
                    let started = ContinuousClock.now
                    let outcome = await processor.process(dispatch.record)
                    let now = ContinuousClock.now
                    if let outcome {
                        metrics.recordFinished(
                            topic: dispatch.record.topic, outcome: outcome, duration: now - started,
                            eventTime: dispatch.record.timestamp
                        )
                        current = withMachine(continuing: key) { $0.finish(dispatch, now: now) }
                    } else {
                        withMachine { $0.abandon(dispatch) }
                        current = nil
                    }
                }
                tasks.withLock { _ = $0.removeValue(forKey: key) }
            }
        }
    }

    private func delay(_ dispatch: DispatchStateMachine.Dispatch, until: ContinuousClock.Instant) {
        let key = taskKey(for: dispatch, delayed: true)
        tasks.withLock { registry in
            registry[key] = Task { [self] in
                try? await Task.sleep(until: until, clock: .continuous)
                tasks.withLock { _ = $0.removeValue(forKey: key) }
                guard !Task.isCancelled else { return }
                withMachine { $0.due(dispatch, now: .now) }
            }
        }
    }

    private func cancelTasks(where predicate: (TaskKey) -> Bool) {
        let matching = tasks.withLock { tasks in tasks.filter { predicate($0.key) }.map(\.value) }
        for task in matching { task.cancel() }
    }

    private func waitForTasks(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while !tasks.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: Health

    /// Offset commits the coordinator refused on revoke or at shutdown (finished work the next owner redelivers).
    public var refusedCommitCount: Int { refusedCommits.load(ordering: .relaxed) }

    /// The poll loop ran recently (or has not started yet).
    public var isLive: Bool {
        guard let consumer = consumerBox.withLock({ $0 }) else { return true }
        return consumer.timeSinceLastPoll < max(.seconds(30), configuration.rebalanceDrainTimeout * 3)
    }

    /// In a stable group (assigned or idle) and not shutting down.
    public var isReady: Bool {
        guard !shuttingDown.load(ordering: .relaxed), let consumer = consumerBox.withLock({ $0 }) else { return false }
        return consumer.groupState?.isStable == true
    }
}
