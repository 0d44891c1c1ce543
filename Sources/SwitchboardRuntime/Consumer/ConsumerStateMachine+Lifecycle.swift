import Foundation
import SwitchboardBase
import SwitchboardKafka

/// Assignments, revokes, the circuit breaker and the shutdown.
extension ConsumerStateMachine {
    /// Partitions were assigned.
    mutating func assigned(_ partitions: [TopicPartition]) -> [Action] {
        apply(dispatch.assign(partitions)).actions
    }

    /// A revoke began: nothing more of `partitions` starts, and their retry-tier waits are cancelled. The shell then
    /// waits for their running records (bounded) before ``revokeEnded(_:lost:)``.
    mutating func revokeBegan(_ partitions: [TopicPartition]) -> [Action] {
        _ = dispatch.beginRevoke(partitions)
        let revoked = Set(partitions)
        return apply([]).actions + cancelTasks { $0.delayed && revoked.contains($0.topicPartition) }
    }

    /// A revoke ends (drained, or its bound reached): tasks still running `partitions`' records are cancelled, their
    /// finished offsets are stored now (before librdkafka commits and unassigns), and they are forgotten. A lost
    /// assignment stores nothing.
    mutating func revokeEnded(_ partitions: [TopicPartition], lost: Bool) -> [Action] {
        let revoked = Set(partitions)
        let cancelled = cancelTasks { revoked.contains($0.topicPartition) }
        let offsets = dispatch.finishRevoke(partitions, lost: lost)
        for partition in partitions {
            pendingOffsets[partition] = nil
            behindSince[partition] = nil
        }
        return cancelled + [.storeOffsets(offsets)] + apply([]).actions
    }

    /// The circuit breaker opened for a dependency used by `topics` (`.all`: every topic), or closed (`.none`).
    mutating func circuitChanged(_ suspension: DispatchStateMachine.Suspension) -> [Action] {
        apply(dispatch.suspend(suspension)).actions
    }

    /// Shutdown began: nothing more is fetched or started, retry-tier waits and merchants' wake-ups are cancelled;
    /// running records go on (the shell waits for them, bounded).
    mutating func shutdownBegan() -> [Action] {
        shuttingDown = true
        return apply(dispatch.stop()).actions + cancelTasks { $0.delayed } + [.cancelWakes]
    }

    /// The shutdown's drain bound ran out: the lanes left are abandoned uncommitted (redelivered to the next owner)
    /// and every task is cancelled.
    mutating func shutdownDrainTimedOut() -> [Action] {
        abandonedAtShutdown = dispatch.pendingWork
        return cancelTasks { _ in true }
    }
}
