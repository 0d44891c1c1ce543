import Foundation
import Testing
import SwitchboardKafka
@testable import SwitchboardRuntime
import TestSupport

@Suite("Dispatch state machine")
struct DispatchStateMachineTests {
    let tp = TopicPartition("sms.inbound", 0)
    let now = ContinuousClock.now

    func record(_ offset: Int64, key: String?, partition: Int32 = 0) -> KafkaRecord {
        KafkaRecord(
            topic: "sms.inbound", partition: partition, offset: offset, key: key.map { Array($0.utf8) }, value: [])
    }

    func started(_ actions: [DispatchStateMachine.Action]) -> [Int64] {
        actions.compactMap { if case .start(let dispatch) = $0 { return dispatch.offset } else { return nil } }
    }

    func stored(_ actions: [DispatchStateMachine.Action]) -> Int64? {
        actions.compactMap { if case .storeOffset(_, let offset) = $0 { return offset } else { return nil } }.last
    }

    func dispatch(_ actions: [DispatchStateMachine.Action]) -> DispatchStateMachine.Dispatch? {
        actions.compactMap { if case .start(let dispatch) = $0 { return dispatch } else { return nil } }.first
    }

    @Test("same-key records wait for their predecessor; other keys start at once")
    func keyOrder() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 10, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let first = machine.receive(record(0, key: "a"), now: now)
        #expect(started(first) == [0])
        #expect(started(machine.receive(record(1, key: "a"), now: now)) == [])
        #expect(started(machine.receive(record(2, key: "b"), now: now)) == [2])
        let afterFirst = machine.finish(dispatch(first)!, now: now)
        #expect(started(afterFirst) == [1])
    }

    @Test("the stored offset is the lowest unfinished record")
    func lowestUnfinished() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 10, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let zero = dispatch(machine.receive(record(0, key: "a"), now: now))!
        let one = dispatch(machine.receive(record(1, key: "b"), now: now))!
        let two = dispatch(machine.receive(record(2, key: "c"), now: now))!
        #expect(stored(machine.finish(two, now: now)) == 0)
        #expect(stored(machine.finish(zero, now: now)) == 1)
        #expect(stored(machine.finish(one, now: now)) == 3)
    }

    @Test("running records are capped per process and queued fairly")
    func concurrencyCap() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 2, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let a = dispatch(machine.receive(record(0, key: "a"), now: now))!
        _ = machine.receive(record(1, key: "b"), now: now)
        #expect(started(machine.receive(record(2, key: "c"), now: now)) == [])
        #expect(machine.running == 2)
        #expect(started(machine.finish(a, now: now)) == [2])
    }

    @Test(
        "a finished record's follower queues behind its merchant's heads already waiting, of its own partition and of others"
    )
    func followerQueuesBehindWaiting() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 1, maxBufferedPerPartition: 100))
        let later = TopicPartition("sms.inbound", 1)
        _ = machine.assign([tp, later])
        let a0 = dispatch(machine.receive(record(0, key: "m:a"), now: now))!
        _ = machine.receive(record(1, key: "m:a"), now: now)
        _ = machine.receive(record(2, key: "m:b"), now: now)
        _ = machine.receive(record(0, key: "m:c", partition: 1), now: now)
        let b2 = dispatch(machine.finish(a0, now: now))
        #expect(b2?.offset == 2, "the waiting head of key b takes the slot, not key a's follower")
        let c0 = dispatch(machine.finish(b2!, now: now))
        #expect(c0?.topicPartition == later, "then the other partition's head")
        #expect(started(machine.finish(c0!, now: now)) == [1], "then a's follower")
    }

    @Test("a full window pauses the partition and a drained one resumes it")
    func pauseResume() {
        var machine = DispatchStateMachine(
            limits: .init(maxRunning: 10, maxBufferedPerPartition: 4, resumeAtBuffered: 2))
        _ = machine.assign([tp])
        var dispatches: [DispatchStateMachine.Dispatch] = []
        var paused = false
        for offset in 0..<4 {
            let actions = machine.receive(record(Int64(offset), key: "k\(offset)"), now: now)
            dispatches += actions.compactMap { if case .start(let d) = $0 { return d } else { return nil } }
            paused = paused || actions.contains { if case .pause = $0 { return true } else { return false } }
        }
        #expect(paused)
        #expect(
            !machine.finish(dispatches[0], now: now).contains {
                if case .resume = $0 { return true } else { return false }
            })
        #expect(
            machine.finish(dispatches[1], now: now).contains {
                if case .resume = $0 { return true } else { return false }
            })
    }

    @Test("re-fetched offsets after a resume are ignored")
    func duplicatesIgnored() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 10, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        _ = machine.receive(record(5, key: "a"), now: now)
        #expect(machine.receive(record(5, key: "a"), now: now).isEmpty)
        #expect(machine.receive(record(3, key: "a"), now: now).isEmpty)
    }

    @Test("revoke stops intake; running records and unstarted ones below them drain; later ones stay uncommitted")
    func revoke() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 2, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let zero = dispatch(machine.receive(record(0, key: "a"), now: now))!
        _ = machine.receive(record(1, key: "a"), now: now)  // queued behind 0, below the running 2: must still run
        let two = dispatch(machine.receive(record(2, key: "b"), now: now))!
        #expect(started(machine.receive(record(3, key: "c"), now: now)).isEmpty)  // waits for a slot, above 2
        _ = machine.receive(record(4, key: "a"), now: now)  // queued behind 1, above 2
        #expect(machine.beginRevoke([tp]) == 2)
        #expect(machine.receive(record(5, key: "d"), now: now).isEmpty)  // no new intake
        let one = dispatch(machine.finish(zero, now: now))!
        #expect(one.offset == 1)
        #expect(started(machine.finish(two, now: now)).isEmpty)  // 3 was dropped
        #expect(started(machine.finish(one, now: now)).isEmpty)  // and so was 4
        #expect(machine.pendingWork(in: [tp]) == 0)
        #expect(machine.finishRevoke([tp], lost: false).map(\.1) == [3])
        #expect(machine.assigned.isEmpty)
    }

    @Test("on revoke, lanes waiting for a retry due time are dropped and stay uncommitted")
    func revokeDropsDelayed() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 10, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        _ = machine.receive(record(0, key: "a"), notBefore: now.advanced(by: .seconds(60)), now: now)
        let one = dispatch(machine.receive(record(1, key: "b"), now: now))!
        #expect(machine.beginRevoke([tp]) == 1)
        _ = machine.finish(one, now: now)
        #expect(machine.pendingWork(in: [tp]) == 0)
        #expect(machine.finishRevoke([tp], lost: false).map(\.1) == [0])
    }

    @Test("an abandoned record frees its slot but never lets the offset pass it")
    func abandon() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 1, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let zero = dispatch(machine.receive(record(0, key: "a"), now: now))!
        _ = machine.receive(record(1, key: "a"), now: now)
        #expect(started(machine.receive(record(2, key: "b"), now: now)) == [])
        let actions = machine.abandon(zero)
        #expect(started(actions) == [2])  // the slot went to another key; key a's follower is dropped
        #expect(stored(machine.finish(dispatch(actions)!, now: now)) == 0)
    }

    @Test("stop pauses everything, accepts nothing new, starts nothing more, and lets running records finish")
    func stop() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 1, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let zero = dispatch(machine.receive(record(0, key: "a"), now: now))!
        _ = machine.receive(record(1, key: "b"), now: now)
        #expect(machine.stop().contains { if case .pause = $0 { return true } else { return false } })
        #expect(machine.pendingWork == 1)
        #expect(machine.receive(record(2, key: "c"), now: now).isEmpty)
        let finished = machine.finish(zero, now: now)
        #expect(started(finished).isEmpty)
        #expect(stored(finished) == 1)
        #expect(machine.pendingWork == 0)
    }

    @Test("a lost assignment stores nothing")
    func lost() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 10, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let zero = dispatch(machine.receive(record(0, key: "a"), now: now))!
        _ = machine.finish(zero, now: now)
        _ = machine.beginRevoke([tp])
        #expect(machine.finishRevoke([tp], lost: true).isEmpty)
    }

    @Test("delayed records hold their lane but not a running slot until due")
    func delayed() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 1, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let later = now.advanced(by: .seconds(30))
        let actions = machine.receive(record(0, key: "a"), notBefore: later, now: now)
        guard case .delay(let delayed, let until) = actions.first else {
            Issue.record("expected a delay")
            return
        }
        #expect(until == later)
        #expect(started(machine.receive(record(1, key: "b"), now: now)) == [1])  // the slot is free for others
        #expect(started(machine.receive(record(2, key: "a"), now: now)) == [])  // but key a waits
        #expect(machine.due(delayed, now: later).isEmpty)  // slot busy: queued
        #expect(machine.readyCount == 1)
    }

    @Test("suspension pauses every partition and lets exactly one probe run")
    func suspension() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 10, maxBufferedPerPartition: 100))
        let other = TopicPartition("sms.inbound", 1)
        _ = machine.assign([tp, other])
        let failing = dispatch(machine.receive(record(0, key: "a"), now: now))!  // the record whose failures open the circuit
        let suspendActions = machine.suspend(true)
        #expect(
            suspendActions.contains {
                if case .pause(let list) = $0 { return Set(list) == [tp, other] } else { return false }
            })
        #expect(started(machine.receive(record(1, key: "b"), now: now)) == [])
        #expect(started(machine.receive(record(2, key: "c"), now: now)) == [])
        // The failing record is given up on (dead-lettered): one queued record becomes the next probe.
        #expect(started(machine.finish(failing, now: now)) == [1])
        let resumed = machine.suspend(false)
        #expect(started(resumed) == [2])
        #expect(resumed.contains { if case .resume = $0 { return true } else { return false } })
    }

    @Test(
        "suspending one topic holds its records and pauses its partitions while other topics flow; one of its records probes"
    )
    func topicSuspension() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 10, maxBufferedPerPartition: 100))
        let consent = TopicPartition("sms.consent", 0)
        _ = machine.assign([tp, consent])
        let failing = dispatch(machine.receive(record(0, key: "a"), now: now))!
        let suspendActions = machine.suspend(.topics(["sms.inbound"]))
        #expect(
            suspendActions.contains { if case .pause(let list) = $0 { return list == [tp] } else { return false } },
            "only sms.inbound pauses")
        #expect(
            started(machine.receive(record(1, key: "b"), now: now)) == [], "sms.inbound waits behind its running probe")
        let stop = KafkaRecord(topic: "sms.consent", partition: 0, offset: 0, key: Array("a".utf8), value: [])
        #expect(started(machine.receive(stop, now: now)) == [0], "sms.consent starts at once, even with the same key")
        #expect(started(machine.finish(failing, now: now)) == [1], "the held record becomes the next probe")
        let resumed = machine.suspend(.none)
        #expect(resumed.contains { if case .resume(let list) = $0 { return list == [tp] } else { return false } })
    }

    @Test("finishes of a revoked generation never store offsets for the new owner's generation")
    func staleGeneration() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 10, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let old = dispatch(machine.receive(record(0, key: "a"), now: now))!
        _ = machine.beginRevoke([tp])
        #expect(machine.finishRevoke([tp], lost: true).isEmpty)
        _ = machine.assign([tp])
        #expect(stored(machine.finish(old, now: now)) == nil)
        #expect(started(machine.receive(record(0, key: "a"), now: now)) == [0])
    }
}
