import Foundation
import SwitchboardBase
import SwitchboardKafka

extension ConsumerWorker {
    /// A tracked record task: the partition (and assignment generation) whose records it runs, and a unique number.
    struct TaskKey: Hashable {
        var topicPartition: TopicPartition
        var generation: UInt64
        var number: UInt64
        /// Waits for a retry-tier record's due time rather than running one.
        var delayed: Bool
    }

    /// Everything the worker changes, under one lock: the dispatch state machine, offsets waiting to be stored, the
    /// running tasks, and whoever waits for a drain. Transitions happen under the lock; their librdkafka calls are
    /// enqueued on ``KafkaControl`` in the same order and run outside it.
    struct State {
        var machine: DispatchStateMachine
        /// Offsets to store, coalesced per partition and flushed every ``ConsumerWorker/offsetFlushInterval`` and at
        /// commit points.
        var pendingOffsets: [TopicPartition: Int64] = [:]
        var tasks: [TaskKey: Task<Void, Never>] = [:]
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

        mutating func nextTaskKey(for dispatch: DispatchStateMachine.Dispatch, delayed: Bool) -> TaskKey {
            taskNumbers += 1
            return TaskKey(
                topicPartition: dispatch.topicPartition, generation: dispatch.generation, number: taskNumbers,
                delayed: delayed)
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
        mutating func removeTask(_ key: TaskKey) -> [AsyncEvent] {
            tasks.removeValue(forKey: key)
            guard tasks.isEmpty, !idleWaiters.isEmpty else { return [] }
            defer { idleWaiters = [] }
            return idleWaiters
        }
    }
}
