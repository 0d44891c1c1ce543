import Foundation
import Testing
import SwitchboardKafka
@testable import SwitchboardRuntime

/// How the worker tracks record tasks that go on with records of other partitions: a revoke's cancellation must reach
/// exactly the tasks running the revoked partitions' records, and a task chosen for cancellation must not go on.
extension DispatchStateMachineTests {
    /// A worker state with one record started in each of two partitions and a task tracked for the first.
    func trackedTaskAndOtherRecord() -> (
        state: ConsumerWorker.State, task: UInt64, other: TopicPartition, second: DispatchStateMachine.Dispatch
    ) {
        var state = ConsumerWorker.State(limits: .init(maxRunning: 4, maxBufferedPerPartition: 100))
        let other = TopicPartition("sms.inbound", 1)
        _ = state.machine.assign([tp, other])
        let first = dispatch(state.machine.receive(record(0, key: "m:a"), now: now))!
        let second = dispatch(state.machine.receive(record(0, key: "m:b", partition: 1), now: now))!
        let task = state.track(first, delayed: false) { _ in Task {} }
        return (state, task, other, second)
    }

    @Test("a task that goes on with another partition's record is tracked under that partition from then on")
    func retargetedTaskFollowsItsRecord() {
        let (initial, task, other, second) = trackedTaskAndOtherRecord()
        var state = initial
        let retargeted = state.retarget(task, to: second)
        #expect(retargeted)
        let firstPartitions = state.chooseForCancellation(where: { $0.topicPartition == tp })
        #expect(firstPartitions.isEmpty, "a revoke of the first partition no longer reaches it")
        let otherPartitions = state.chooseForCancellation(where: { $0.topicPartition == other })
        #expect(otherPartitions.count == 1)
    }

    @Test("a task chosen for cancellation does not go on with another record")
    func cancelledTaskDoesNotGoOn() {
        let (initial, task, _, second) = trackedTaskAndOtherRecord()
        var state = initial
        let chosen = state.chooseForCancellation(where: { $0.topicPartition == tp })
        #expect(chosen.count == 1)
        let retargeted = state.retarget(task, to: second)
        #expect(!retargeted, "the cancellation would reach the other partition's record")
        #expect(state.tasks[task]?.topicPartition == tp)
    }
}
