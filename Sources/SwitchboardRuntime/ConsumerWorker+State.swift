import Foundation
import SwitchboardBase
import SwitchboardKafka

extension ConsumerWorker {
    /// A tracked record task: the partition of the record it runs now, and its handle.
    /// A record task that goes on with a record of another partition is retargeted under the lock (see
    /// ``State/retarget(_:to:)``), so a revoke cancels exactly the tasks running the revoked partitions' records.
    struct TrackedTask {
        var topicPartition: TopicPartition
        /// Waits for a retry-tier record's due time rather than running one.
        let delayed: Bool
        let task: Task<Void, Never>
        /// Chosen for cancellation: it must not go on with another record, which the cancellation would reach.
        var cancelled = false
    }

    /// Everything the worker changes, under one lock: the dispatch state machine, offsets waiting to be stored, the
    /// running tasks, and whoever waits for a drain. Transitions happen under the lock; their librdkafka calls are
    /// enqueued on ``KafkaControl`` in the same order and run outside it.
    struct State {
        var machine: DispatchStateMachine
        /// Offsets to store, coalesced per partition and flushed every ``ConsumerWorker/offsetFlushInterval`` and at
        /// commit points.
        var pendingOffsets: [TopicPartition: Int64] = [:]
        /// The record tasks and retry-tier delays, by a number unique in the process.
        var tasks: [UInt64: TrackedTask] = [:]
        /// Per merchant waiting for its budget, the task that wakes its records (see ``DispatchStateMachine/yield``).
        var wakers: [Merchant: Task<Void, Never>] = [:]
        var taskNumbers: UInt64 = 0
        /// Waiting for the given partitions (nil: all) to have no work left: a revoke, the shutdown.
        var drainWaiters: [(partitions: [TopicPartition]?, event: AsyncEvent)] = []
        /// Waiting for every record task to have ended.
        var idleWaiters: [AsyncEvent] = []
        /// When each partition was first seen behind (for lag in seconds when nothing is in flight).
        var behindSince: [TopicPartition: Date] = [:]
        var shuttingDown = false
        /// Offset commits the coordinator refused on revoke or at shutdown.
        var refusedCommits = 0
        /// Key lanes the shutdown gave up on when its drain bound ran out (left uncommitted for redelivery).
        var abandonedAtShutdown = 0

        init(limits: DispatchStateMachine.Limits) {
            machine = DispatchStateMachine(limits: limits)
        }

        /// Tracks a task made by `makeTask` (given its number) for `dispatch`'s partition; returns the number.
        mutating func track(
            _ dispatch: DispatchStateMachine.Dispatch, delayed: Bool, makeTask: (UInt64) -> Task<Void, Never>
        ) -> UInt64 {
            taskNumbers += 1
            tasks[taskNumbers] = TrackedTask(
                topicPartition: dispatch.topicPartition, delayed: delayed, task: makeTask(taskNumbers))
            return taskNumbers
        }

        /// Lets task `number` go on with `dispatch` (of any partition), tracked under that partition from now on;
        /// false when the task is chosen for cancellation (the dispatch then needs a task of its own).
        mutating func retarget(_ number: UInt64, to dispatch: DispatchStateMachine.Dispatch) -> Bool {
            guard let tracked = tasks[number], !tracked.cancelled, !tracked.delayed else { return false }
            tasks[number]?.topicPartition = dispatch.topicPartition
            return true
        }

        /// Marks the tasks `predicate` selects as cancelled and returns their handles (to cancel outside the lock).
        mutating func chooseForCancellation(where predicate: (TrackedTask) -> Bool) -> [Task<Void, Never>] {
            var chosen: [Task<Void, Never>] = []
            for (number, tracked) in tasks where predicate(tracked) {
                tasks[number]?.cancelled = true
                chosen.append(tracked.task)
            }
            return chosen
        }

        /// Lanes with work left in `partitions` (nil: every partition).
        func pendingWork(in partitions: [TopicPartition]?) -> Int {
            partitions.map { machine.pendingWork(in: $0) } ?? machine.pendingWork
        }

        /// Removes and returns the drain waiters whose partitions have no work left.
        mutating func takeDrainedWaiters() -> [AsyncEvent] {
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

        /// Removes a task; returns the idle waiters to wake when it was the last one.
        mutating func removeTask(_ number: UInt64) -> [AsyncEvent] {
            tasks.removeValue(forKey: number)
            guard tasks.isEmpty, !idleWaiters.isEmpty else { return [] }
            defer { idleWaiters = [] }
            return idleWaiters
        }
    }
}
