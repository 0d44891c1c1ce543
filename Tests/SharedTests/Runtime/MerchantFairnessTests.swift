import Foundation
import Testing
import SwitchboardKafka
@testable import SwitchboardRuntime
import TestSupport

/// Fairness between merchants in the dispatch state machine: turns per merchant, a throttled record giving its slot
/// back, and the allowance that follows a merchant's budget.
extension DispatchStateMachineTests {
    func wakes(_ actions: [DispatchStateMachine.Action]) -> [String] {
        actions.compactMap { if case .wake(let merchant, _) = $0 { return merchant.name } else { return nil } }
    }

    @Test("a merchant's backlog does not stand in front of another merchant's record: freed slots go in turn")
    func merchantsTakeTurns() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 2, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        var running = (0..<10).compactMap {
            dispatch(machine.receive(record(Int64($0), key: "hot:+1555\($0)"), now: now))
        }
        _ = machine.receive(record(10, key: "calm:+15551"), now: now)
        _ = machine.receive(record(11, key: "calm:+15552"), now: now)
        #expect(running.map(\.offset) == [0, 1])
        let first = machine.finish(running.removeFirst(), now: now)
        #expect(started(first) == [10], "the other merchant's record goes first, not the hot one's third")
        let second = machine.finish(running.removeFirst(), now: now)
        #expect(started(second) == [2], "then the hot merchant's turn")
        #expect(started(machine.finish(dispatch(first)!, now: now)) == [11])
    }

    @Test("a merchant's next record in a key does not take a freed slot ahead of another merchant's waiting record")
    func followerWaitsItsTurn() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 1, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let first = dispatch(machine.receive(record(0, key: "hot:+15550"), now: now))!
        _ = machine.receive(record(1, key: "hot:+15550"), now: now)
        _ = machine.receive(record(2, key: "calm:+15551"), now: now)
        let calm = dispatch(machine.finish(first, now: now))
        #expect(calm?.offset == 2, "the other merchant's record, not the hot key's follower")
        #expect(started(machine.finish(calm!, now: now)) == [1])
    }

    @Test(
        "a throttled record gives its slot back; its merchant waits for the budget while others run; then it goes first"
    )
    func throttledYields() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 2, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let a0 = dispatch(machine.receive(record(0, key: "hot:+15550"), now: now))!
        let a1 = dispatch(machine.receive(record(1, key: "hot:+15551"), now: now))!
        _ = machine.receive(record(2, key: "hot:+15552"), now: now)
        _ = machine.receive(record(3, key: "calm:+15553"), now: now)
        let yielded = machine.yield(a0, wait: .seconds(2), now: now)
        #expect(wakes(yielded) == ["hot"])
        #expect(started(yielded) == [3], "the freed slot goes to the other merchant, not the hot one's next record")
        #expect(machine.running == 2)
        #expect(machine.waitingForBudget().map(\.merchant) == ["hot"])
        #expect(machine.waitingForBudget().first?.waiting == 2)
        let second = machine.yield(a1, wait: .seconds(2), now: now)
        #expect(started(second).isEmpty, "the hot merchant waits")
        #expect(wakes(second).isEmpty, "one wake per wait")
        let freed = machine.budgetFreed(Merchant(key: Array("hot:x".utf8), topic: "sms.inbound"))
        #expect(started(freed) == [1], "a throttled head goes first, within the halved allowance of one slot")
        #expect(stored(machine.finish(dispatch(freed)!, now: now)) == 0, "the waiting record's offset is not passed")
    }

    @Test(
        "a merchant waiting for its Gorgias budget on sms.inbound still starts its STOP on sms.consent (and its tier's records wait with the texts)"
    )
    func budgetWaitIsPerKindOfWork() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 4, maxBufferedPerPartition: 100))
        let consent = TopicPartition("sms.consent", 0)
        let tier = TopicPartition("sms.inbound.retry.30s", 0)
        _ = machine.assign([tp, consent, tier])
        let text = dispatch(machine.receive(record(0, key: "hot:+15550"), now: now))!
        _ = machine.yield(text, wait: .seconds(30), now: now)
        let retried = KafkaRecord(
            topic: tier.topic, partition: 0, offset: 0, key: Array("hot:+15551".utf8), value: [])
        #expect(started(machine.receive(retried, now: now)).isEmpty, "a retry tier's text waits with the texts")
        let stop = KafkaRecord(
            topic: consent.topic, partition: 0, offset: 0, key: Array("hot:+15552".utf8), value: [])
        #expect(started(machine.receive(stop, now: now)) == [0], "the STOP starts at once")
        #expect(machine.waitingForBudget().map(\.merchant) == ["hot"], "metrics still name the merchant by account")
    }

    @Test(
        "a throttled record is dropped uncommitted at a stop or revoke instead of waiting, and never held in a full partition"
    )
    func throttledAtStop() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 4, maxBufferedPerPartition: 3))
        _ = machine.assign([tp])
        let a0 = dispatch(machine.receive(record(0, key: "hot:+15550"), now: now))!
        let b1 = dispatch(machine.receive(record(1, key: "calm:+15551"), now: now))!
        #expect(machine.mayHold(a0))
        _ = machine.yield(a0, wait: .seconds(2), now: now)
        let a2 = dispatch(machine.receive(record(2, key: "calm:+15552"), now: now))!
        #expect(!machine.mayHold(a2), "a full partition defers its throttled records to a tier")
        _ = machine.stop()
        #expect(machine.pendingWork == 2, "only the running records are left to drain")
        #expect(stored(machine.finish(a2, now: now)) == 0)
        #expect(stored(machine.finish(b1, now: now)) == nil, "the dropped throttled record stays uncommitted")
        #expect(machine.pendingWork == 0)
    }

    @Test(
        "beside other merchants' work, a merchant's allowance starts at an eighth of the window, halves when it is throttled, grows by one per finish"
    )
    func allowanceFollowsBudget() {
        var start = MerchantTurns<Item>(window: 256)
        let other = Merchant(key: Array("other:1".utf8))
        start.started(other)
        let new = Merchant(key: Array("new:1".utf8))
        for _ in 0..<31 { start.started(new) }
        #expect(start.mayRun(new))
        start.started(new)
        #expect(!start.mayRun(new), "a new merchant starts with 32 of 256 slots")
        start.ended(new)
        start.started(new)
        #expect(start.mayRun(new), "and grows by one per finish")
        var turns = MerchantTurns<Item>(window: 8)
        let hot = Merchant(key: Array("hot:1".utf8))
        for _ in 0..<8 { turns.started(hot) }
        let began = turns.throttled(hot)
        #expect(began)
        turns.budgetFreed(hot)
        #expect(!turns.mayRun(hot), "7 running of an allowance of 4")
        for _ in 0..<4 { turns.ended(hot, grows: false) }
        #expect(turns.mayRun(hot), "3 running of 4")
        turns.started(hot)
        #expect(!turns.mayRun(hot))
        turns.ended(hot)
        turns.started(hot)
        #expect(turns.mayRun(hot), "4 running of 5 after a finish")
    }

    @Test(
        "a merchant that starts with no other merchant's work around starts at the whole window; one back from idle beside others starts at an eighth"
    )
    func aloneStartsAtWholeWindow() {
        var turns = MerchantTurns<Item>(window: 256)
        let alone = Merchant(key: Array("alone:1".utf8))
        for _ in 0..<255 { turns.started(alone) }
        #expect(turns.mayRun(alone), "255 running of 256: no ramp for a merchant alone")
        turns.started(alone)
        #expect(!turns.mayRun(alone), "never above the whole window")
        let later = Merchant(key: Array("later:1".utf8))
        for _ in 0..<32 { turns.started(later) }
        #expect(!turns.mayRun(later), "a merchant arriving beside it starts at 32")
        for _ in 0..<256 { turns.ended(alone) }
        turns.started(alone)
        for _ in 0..<31 { turns.started(alone) }
        #expect(!turns.mayRun(alone), "back from idle while another merchant runs: 32 again")
    }

    @Test("a revoke drops unstarted records of a merchant waiting for its budget, so the drain does not wait for it")
    func revokeDropsWaitingMerchant() {
        var machine = DispatchStateMachine(limits: .init(maxRunning: 1, maxBufferedPerPartition: 100))
        _ = machine.assign([tp])
        let a0 = dispatch(machine.receive(record(0, key: "hot:+15550"), now: now))!
        _ = machine.receive(record(1, key: "hot:+15551"), now: now)
        #expect(dispatch(machine.receive(record(2, key: "calm:+15552"), now: now)) == nil, "the one slot is taken")
        let calm = dispatch(machine.yield(a0, wait: .seconds(30), now: now))
        #expect(calm?.offset == 2, "the slot goes to the other merchant")
        #expect(machine.beginRevoke([tp]) == 1, "only the running record is left to drain, not hot's waiting ones")
        #expect(stored(machine.finish(calm!, now: now)) == 0, "hot's records stay uncommitted for the next owner")
        #expect(machine.pendingWork(in: [tp]) == 0)
    }

    struct Item: MerchantScoped {
        var merchant: Merchant
    }
}
