import Foundation
import SwitchboardBase
import SwitchboardKafka

/// Everything a consumer's shell decides, as a state machine: the dispatch core (``DispatchStateMachine``), offsets
/// waiting to be stored, the record tasks and retry-tier waits it has asked for, who waits for a drain or for the
/// tasks to end, lag windows, and the shutdown's bookkeeping.
///
/// It does no I/O and owns no tasks: each event (records arrived, a record finished or was throttled, a revoke
/// began, the circuit opened, shutdown began…) is a mutating call that returns ``Action``s for the shell
/// (``ConsumerWorker``) to carry out — librdkafka calls in order, tasks to start or cancel, waiters to wake. Tests
/// drive it with scripted events and no broker (`ConsumerStateMachineTests`).
struct ConsumerStateMachine {
    /// A record task or a retry-tier wait the machine asked the shell to run, by a number unique in the process.
    typealias TaskNumber = UInt64

    enum Action {
        case pause([TopicPartition])
        case resume([TopicPartition])
        /// Hand these offsets to librdkafka now (in order with pause and resume).
        case storeOffsets([(TopicPartition, Int64)])
        /// Start a record task that runs `dispatch`, then whatever it is handed on finishing.
        case start(TaskNumber, DispatchStateMachine.Dispatch)
        /// Start a task that waits until `until`, then reports ``delayEnded(_:_:now:)``.
        case delay(TaskNumber, DispatchStateMachine.Dispatch, until: ContinuousClock.Instant)
        /// (Re)schedule the wake-up of `merchant`'s records, replacing any earlier one.
        case wake(Merchant, at: ContinuousClock.Instant)
        /// Cancel every scheduled wake-up.
        case cancelWakes
        /// Cancel these tasks (chosen here: none of them goes on with another record).
        case cancel([TaskNumber])
        /// The task ended: drop its handle.
        case forget(TaskNumber)
        /// Wake these waiters (a drain or an idle wait is over).
        case signal([AsyncEvent])
    }

    /// A task the shell runs for the machine.
    struct TrackedTask {
        /// The partition of the record it runs now (retargeted when it goes on with another record).
        var topicPartition: TopicPartition
        /// Waits for a retry-tier record's due time rather than running one.
        let delayed: Bool
        /// Chosen for cancellation: it must not go on with another record, which the cancellation would reach.
        var cancelled = false
    }

    var dispatch: DispatchStateMachine
    /// Offsets to store, coalesced per partition and flushed by ``flush()`` and at commit points.
    var pendingOffsets: [TopicPartition: Int64] = [:]
    private(set) var tasks: [TaskNumber: TrackedTask] = [:]
    private var taskNumbers: TaskNumber = 0
    /// Waiting for the given partitions (nil: all) to have no work left: a revoke, the shutdown.
    private var drainWaiters: [(partitions: [TopicPartition]?, event: AsyncEvent)] = []
    /// Waiting for every task to have ended.
    private var idleWaiters: [AsyncEvent] = []
    /// When each partition was first seen behind (lag in seconds when nothing of it is in flight).
    var behindSince: [TopicPartition: Date] = [:]
    var shuttingDown = false
    /// Offset commits the coordinator refused on revoke or at shutdown.
    private(set) var refusedCommits = 0
    /// Key lanes the shutdown gave up on when its drain bound ran out (left uncommitted for redelivery).
    var abandonedAtShutdown = 0

    init(limits: DispatchStateMachine.Limits) {
        dispatch = DispatchStateMachine(limits: limits)
    }

    /// Records running now.
    var running: Int { dispatch.running }
    var assignedCount: Int { dispatch.assigned.count }
    /// Whether `number` was chosen for cancellation (the shell cancels a task it starts after that at once).
    func isCancelled(_ number: TaskNumber) -> Bool { tasks[number]?.cancelled ?? true }

    // MARK: Records

    /// Records arrived from the poll loop, each with the time a retry-tier record becomes due (nil: now).
    mutating func received(
        _ arrivals: [(record: KafkaRecord, notBefore: ContinuousClock.Instant?)], now: ContinuousClock.Instant
    ) -> [Action] {
        apply(arrivals.flatMap { dispatch.receive($0.record, notBefore: $0.notBefore, now: now) })
    }

    /// A record finished in task `number`; returns the actions and the record that task goes on with, if any.
    mutating func finished(
        _ record: DispatchStateMachine.Dispatch, inTask number: TaskNumber, now: ContinuousClock.Instant
    )
        -> (actions: [Action], next: DispatchStateMachine.Dispatch?)
    {
        apply(dispatch.finish(record, now: now), continuing: number)
    }

    /// Whether a throttled record may wait for its merchant's budget here, holding no slot (else it goes to a tier).
    func mayHold(_ record: DispatchStateMachine.Dispatch) -> Bool { dispatch.mayHold(record) }

    /// A record in task `number` found its merchant's budget spent for `wait`: it gives its slot back and waits.
    mutating func throttled(
        _ record: DispatchStateMachine.Dispatch, inTask number: TaskNumber, wait: Duration, now: ContinuousClock.Instant
    ) -> (actions: [Action], next: DispatchStateMachine.Dispatch?) {
        apply(dispatch.yield(record, wait: wait, now: now), continuing: number)
    }

    /// A record was abandoned (its task cancelled by a revoke or the shutdown): its lane is dropped uncommitted.
    mutating func abandoned(_ record: DispatchStateMachine.Dispatch) -> [Action] {
        apply(dispatch.abandon(record))
    }

    /// Task `number`'s wait for a retry-tier record's due time ended; a cancelled wait starts nothing.
    mutating func delayEnded(
        _ number: TaskNumber, _ record: DispatchStateMachine.Dispatch, now: ContinuousClock.Instant
    )
        -> [Action]
    {
        let cancelled = isCancelled(number)
        var actions = taskEnded(number)
        if !cancelled { actions += apply(dispatch.due(record, now: now)) }
        return actions
    }

    /// `merchant`'s budget has tokens again: its waiting records may start.
    mutating func budgetFreed(_ merchant: Merchant) -> [Action] {
        apply(dispatch.budgetFreed(merchant))
    }

    /// Task `number` ended; wakes the idle waiters when it was the last.
    mutating func taskEnded(_ number: TaskNumber) -> [Action] {
        tasks.removeValue(forKey: number)
        guard tasks.isEmpty, !idleWaiters.isEmpty else { return [.forget(number)] }
        defer { idleWaiters = [] }
        return [.forget(number), .signal(idleWaiters)]
    }

    /// The coalesced offsets, to hand to librdkafka now.
    mutating func flush() -> [Action] {
        guard !pendingOffsets.isEmpty else { return [] }
        defer { pendingOffsets = [:] }
        return [.storeOffsets(pendingOffsets.map { ($0.key, $0.value) })]
    }

    /// The coordinator refused an offset commit (on revoke or at shutdown).
    mutating func commitRefused() { refusedCommits += 1 }

    // MARK: Turning the dispatch core's actions into the shell's

    /// Applies the dispatch core's `actions`: offsets are coalesced, records to start get tasks (the first one goes
    /// on in task `continuing` instead, unless that task is chosen for cancellation), and drain waiters whose
    /// partitions emptied are woken.
    mutating func apply(_ actions: [DispatchStateMachine.Action], continuing: TaskNumber? = nil)
        -> (actions: [Action], next: DispatchStateMachine.Dispatch?)
    {
        var result: [Action] = []
        var next: DispatchStateMachine.Dispatch?
        for action in actions {
            switch action {
            case .pause(let partitions): result.append(.pause(partitions))
            case .resume(let partitions): result.append(.resume(partitions))
            case .storeOffset(let partition, let offset): pendingOffsets[partition] = offset
            case .wake(let merchant, let at): result.append(.wake(merchant, at: at))
            case .start(let record):
                if next == nil, let continuing, retarget(continuing, to: record) {
                    next = record
                } else {
                    result.append(.start(track(record, delayed: false), record))
                }
            case .delay(let record, let until):
                result.append(.delay(track(record, delayed: true), record, until: until))
            }
        }
        let drained = takeDrainedWaiters()
        if !drained.isEmpty { result.append(.signal(drained)) }
        return (result, next)
    }

    private mutating func apply(_ actions: [DispatchStateMachine.Action]) -> [Action] {
        apply(actions, continuing: nil).actions
    }

    private mutating func track(_ record: DispatchStateMachine.Dispatch, delayed: Bool) -> TaskNumber {
        taskNumbers += 1
        tasks[taskNumbers] = TrackedTask(topicPartition: record.topicPartition, delayed: delayed)
        return taskNumbers
    }

    /// Lets task `number` go on with `record` (of any partition), tracked under that partition from now on; false
    /// when the task is chosen for cancellation or is a wait (the record then needs a task of its own).
    private mutating func retarget(_ number: TaskNumber, to record: DispatchStateMachine.Dispatch) -> Bool {
        guard let tracked = tasks[number], !tracked.cancelled, !tracked.delayed else { return false }
        tasks[number]?.topicPartition = record.topicPartition
        return true
    }

    /// Marks the tasks `predicate` selects as cancelled; the action cancels them.
    mutating func cancelTasks(where predicate: (TrackedTask) -> Bool) -> [Action] {
        var chosen: [TaskNumber] = []
        for (number, tracked) in tasks where !tracked.cancelled && predicate(tracked) {
            tasks[number]?.cancelled = true
            chosen.append(number)
        }
        return chosen.isEmpty ? [] : [.cancel(chosen)]
    }

    // MARK: Waiters

    /// Lanes with work left in `partitions` (nil: every partition).
    func pendingWork(in partitions: [TopicPartition]?) -> Int {
        partitions.map { dispatch.pendingWork(in: $0) } ?? dispatch.pendingWork
    }

    /// Registers `event` to be signalled once `partitions` (nil: all) have no work left; false when they have none
    /// already (nothing is registered).
    mutating func waitForDrain(of partitions: [TopicPartition]?, _ event: AsyncEvent) -> Bool {
        guard pendingWork(in: partitions) > 0 else { return false }
        drainWaiters.append((partitions, event))
        return true
    }

    /// Forgets a drain waiter (its wait ended, signalled or not).
    mutating func stopWaiting(_ event: AsyncEvent) {
        drainWaiters.removeAll { $0.event === event }
    }

    /// Registers `event` to be signalled once every task has ended; false when none runs (nothing is registered).
    mutating func waitForIdle(_ event: AsyncEvent) -> Bool {
        guard !tasks.isEmpty else { return false }
        idleWaiters.append(event)
        return true
    }

    private mutating func takeDrainedWaiters() -> [AsyncEvent] {
        guard !drainWaiters.isEmpty else { return [] }
        var drained: [AsyncEvent] = []
        var waiting: [(partitions: [TopicPartition]?, event: AsyncEvent)] = []
        for waiter in drainWaiters {
            if pendingWork(in: waiter.partitions) == 0 {
                drained.append(waiter.event)
            } else {
                waiting.append(waiter)
            }
        }
        drainWaiters = waiting
        return drained
    }
}
