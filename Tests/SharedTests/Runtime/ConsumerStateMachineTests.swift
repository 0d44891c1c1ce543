import Foundation
import Testing
import SwitchboardBase
import SwitchboardKafka
@testable import SwitchboardRuntime

/// The consumer's shell as a state machine, driven by a scripted consumer with no broker: records arrive, tasks
/// finish or hang, revokes and the shutdown begin and run out of time, the breaker opens and closes. Each test
/// checks the actions the shell would carry out, in microseconds.
@Suite("Consumer state machine")
struct ConsumerStateMachineTests {
    typealias Action = ConsumerStateMachine.Action
    typealias Dispatch = DispatchStateMachine.Dispatch

    static let first = TopicPartition("sms.inbound", 0)
    static let second = TopicPartition("sms.inbound", 1)
    let now = ContinuousClock.now

    /// A consumer's events as a script, fed to the machine; every action it asked for is kept in order.
    struct ScriptedConsumer {
        var machine: ConsumerStateMachine
        var actions: [Action] = []
        let now = ContinuousClock.now

        init(maxRunning: Int = 4, partitions: [TopicPartition] = [first, second]) {
            machine = ConsumerStateMachine(limits: .init(maxRunning: maxRunning, maxBufferedPerPartition: 100))
            actions += machine.assigned(partitions)
        }

        mutating func deliver(_ offset: Int64, key: String, in partition: TopicPartition = first) -> [Action] {
            let record = KafkaRecord(
                topic: partition.topic, partition: partition.partition, offset: offset, key: Array(key.utf8),
                value: [])
            let produced = machine.received([(record: record, notBefore: nil)], now: now)
            actions += produced
            return produced
        }

        mutating func run(_ event: (inout ConsumerStateMachine) -> [Action]) -> [Action] {
            let produced = event(&machine)
            actions += produced
            return produced
        }

        /// The records started by `actions`, with the task each runs in.
        static func started(_ actions: [Action]) -> [(task: ConsumerStateMachine.TaskNumber, record: Dispatch)] {
            actions.compactMap { action -> (task: ConsumerStateMachine.TaskNumber, record: Dispatch)? in
                if case .start(let task, let record) = action { return (task, record) }
                return nil
            }
        }

        static func cancelled(_ actions: [Action]) -> [ConsumerStateMachine.TaskNumber] {
            actions.flatMap { action -> [ConsumerStateMachine.TaskNumber] in
                if case .cancel(let tasks) = action { return tasks }
                return []
            }
        }

        static func stored(_ actions: [Action]) -> [TopicPartition: Int64] {
            var offsets: [TopicPartition: Int64] = [:]
            for case .storeOffsets(let list) in actions {
                for (partition, offset) in list { offsets[partition] = offset }
            }
            return offsets
        }

        static func signalled(_ actions: [Action]) -> [AsyncEvent] {
            actions.flatMap { action -> [AsyncEvent] in
                if case .signal(let events) = action { return events }
                return []
            }
        }

        static func paused(_ actions: [Action]) -> Set<TopicPartition> {
            Set(
                actions.flatMap { action -> [TopicPartition] in
                    if case .pause(let partitions) = action { return partitions }
                    return []
                })
        }

        static func resumed(_ actions: [Action]) -> Set<TopicPartition> {
            Set(
                actions.flatMap { action -> [TopicPartition] in
                    if case .resume(let partitions) = action { return partitions }
                    return []
                })
        }
    }

    @Test(
        "revoke during a drain: the revoked partition's running record holds the drain; when it finishes the waiter is woken, its offset stored, and the other partition's record is untouched"
    )
    func revokeDuringDrain() throws {
        var consumer = ScriptedConsumer()
        let (revokedTask, revokedRecord) = try #require(ScriptedConsumer.started(consumer.deliver(0, key: "m:a")).first)
        let (keptTask, _) = try #require(
            ScriptedConsumer.started(consumer.deliver(0, key: "m:b", in: Self.second)).first)
        _ = consumer.run { $0.revokeBegan([Self.first]) }
        let drain = AsyncEvent()
        let waiting = consumer.machine.waitForDrain(of: [Self.first], drain)
        #expect(waiting, "a record of the revoked partition runs")
        #expect(
            ScriptedConsumer.started(consumer.deliver(1, key: "m:c")).isEmpty,
            "nothing more of a revoked partition starts")
        let finished = consumer.machine.finished(revokedRecord, inTask: revokedTask, now: consumer.now)
        consumer.actions += finished.actions
        #expect(finished.next == nil)
        #expect(ScriptedConsumer.signalled(finished.actions).contains { $0 === drain }, "the drain is over")
        _ = consumer.run { $0.taskEnded(revokedTask) }  // the shell's task ends with nothing more to run
        let ended = consumer.run { $0.revokeEnded([Self.first], lost: false) }
        #expect(ScriptedConsumer.stored(ended)[Self.first] == 1, "the finished record's offset is stored at once")
        #expect(ScriptedConsumer.cancelled(ended).isEmpty, "no task runs the revoked partition any more")
        #expect(!consumer.machine.isCancelled(keptTask), "the other partition's record goes on")
        #expect(consumer.machine.assignedCount == 1)
    }

    @Test(
        "revoke whose drain bound runs out: the task still running the revoked partition is cancelled, nothing of it is stored, and the task never goes on with another record"
    )
    func revokeBoundReached() throws {
        var consumer = ScriptedConsumer(maxRunning: 1)
        let (task, record) = try #require(ScriptedConsumer.started(consumer.deliver(0, key: "m:a")).first)
        _ = consumer.deliver(0, key: "m:b", in: Self.second)  // waits for the one slot
        _ = consumer.run { $0.revokeBegan([Self.first]) }
        let ended = consumer.run { $0.revokeEnded([Self.first], lost: false) }
        #expect(ScriptedConsumer.cancelled(ended) == [task])
        #expect(
            ScriptedConsumer.stored(ended)[Self.first] == 0, "the unfinished record is where the next owner starts")
        let abandoned = consumer.machine.finished(record, inTask: task, now: consumer.now)
        #expect(abandoned.next == nil, "a task chosen for cancellation does not go on: the cancellation would reach it")
        let restarted = ScriptedConsumer.started(abandoned.actions)
        #expect(
            restarted.count == 1 && restarted.first?.task != task
                && restarted.first?.record.topicPartition == Self.second)
    }

    @Test("a task that goes on with another partition's record is revoked with that partition, not its first one")
    func retargetedTaskFollowsItsRecord() throws {
        var consumer = ScriptedConsumer(maxRunning: 1)
        let (task, record) = try #require(ScriptedConsumer.started(consumer.deliver(0, key: "m:a")).first)
        _ = consumer.deliver(0, key: "m:b", in: Self.second)
        let finished = consumer.machine.finished(record, inTask: task, now: consumer.now)
        #expect(finished.next?.topicPartition == Self.second && ScriptedConsumer.started(finished.actions).isEmpty)
        _ = consumer.run { $0.revokeBegan([Self.first]) }
        #expect(ScriptedConsumer.cancelled(consumer.run { $0.revokeEnded([Self.first], lost: false) }).isEmpty)
        _ = consumer.run { $0.revokeBegan([Self.second]) }
        #expect(ScriptedConsumer.cancelled(consumer.run { $0.revokeEnded([Self.second], lost: false) }) == [task])
    }

    @Test(
        "shutdown with a stuck task: nothing more starts, waits are cancelled; when the bound runs out the stuck task is cancelled, its lane counted abandoned, and the idle waiter woken when it ends"
    )
    func shutdownWithStuckTask() throws {
        var consumer = ScriptedConsumer()
        let (stuck, _) = try #require(ScriptedConsumer.started(consumer.deliver(0, key: "m:a")).first)
        let (quick, quickRecord) = try #require(
            ScriptedConsumer.started(consumer.deliver(0, key: "m:b", in: Self.second)).first)
        let began = consumer.run { $0.shutdownBegan() }
        #expect(began.contains { if case .cancelWakes = $0 { true } else { false } })
        #expect(consumer.machine.shuttingDown)
        #expect(ScriptedConsumer.started(consumer.deliver(1, key: "m:c")).isEmpty, "nothing starts during shutdown")
        let drain = AsyncEvent()
        let draining = consumer.machine.waitForDrain(of: nil, drain)
        #expect(draining)
        let finished = consumer.machine.finished(quickRecord, inTask: quick, now: consumer.now)
        #expect(finished.next == nil && ScriptedConsumer.signalled(finished.actions).isEmpty, "one lane is left")
        consumer.actions += consumer.run { $0.taskEnded(quick) }
        // The drain's bound runs out with the stuck record still running.
        consumer.machine.stopWaiting(drain)
        let timedOut = consumer.run { $0.shutdownDrainTimedOut() }
        #expect(ScriptedConsumer.cancelled(timedOut) == [stuck])
        #expect(consumer.machine.abandonedAtShutdown == 1)
        let idle = AsyncEvent()
        let busy = consumer.machine.waitForIdle(idle)
        #expect(busy)
        let ended = consumer.run { $0.taskEnded(stuck) }
        #expect(ScriptedConsumer.signalled(ended).contains { $0 === idle })
        #expect(ended.contains { if case .forget(let task) = $0 { task == stuck } else { false } })
        let flushed = consumer.run { $0.flush() }
        #expect(ScriptedConsumer.stored(flushed) == [Self.second: 1], "only the finished record's offset is committed")
    }

    @Test(
        "breaker: opening for one source's dependency pauses that source and lets one record probe it; the others of that source wait, other sources flow; closing starts what waited"
    )
    func breakerPausesAndProbes() throws {
        let consent = TopicPartition("sms.consent", 0)
        var consumer = ScriptedConsumer(partitions: [Self.first, consent])
        let opened = consumer.run { $0.circuitChanged(.topics(["sms.inbound"])) }
        #expect(ScriptedConsumer.paused(opened) == [Self.first])
        #expect(ScriptedConsumer.started(consumer.deliver(0, key: "m:a")).count == 1, "the first text probes Gorgias")
        #expect(
            ScriptedConsumer.started(consumer.deliver(1, key: "m:b")).isEmpty, "the next text waits behind the probe")
        #expect(
            ScriptedConsumer.started(consumer.deliver(0, key: "m:+1555", in: consent)).count == 1,
            "a STOP on sms.consent still starts")
        let closed = consumer.run { $0.circuitChanged(.none) }
        #expect(ScriptedConsumer.started(closed).map(\.record.offset) == [1], "the waiting text starts")
    }

    @Test("a retry-tier wait is a tracked task: a revoke cancels it; one that ends on its own makes its record due")
    func delays() throws {
        var consumer = ScriptedConsumer()
        let record = KafkaRecord(
            topic: "sms.inbound", partition: 0, offset: 0, key: Array("m:a".utf8), value: [])
        let delayed = consumer.machine.received(
            [(record: record, notBefore: consumer.now.advanced(by: .seconds(30)))], now: consumer.now)
        guard case .delay(let wait, let dispatch, _)? = delayed.first else {
            Issue.record("a due time later than now is a wait: \(delayed)")
            return
        }
        let due = consumer.now.advanced(by: .seconds(30))
        let started = consumer.run { $0.delayEnded(wait, dispatch, now: due) }
        #expect(ScriptedConsumer.started(started).map(\.record.offset) == [0])
        var revoked = ScriptedConsumer()
        let again = revoked.machine.received(
            [(record: record, notBefore: revoked.now.advanced(by: .seconds(30)))], now: revoked.now)
        guard case .delay(let number, let waiting, _)? = again.first else { return }
        #expect(ScriptedConsumer.cancelled(revoked.run { $0.revokeBegan([Self.first]) }) == [number])
        let early = revoked.now
        #expect(ScriptedConsumer.started(revoked.run { $0.delayEnded(number, waiting, now: early) }).isEmpty)
    }
}
