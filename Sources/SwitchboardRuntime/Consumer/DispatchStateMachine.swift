import DequeModule
import Foundation
import SwitchboardKafka

/// Decides when each consumed record runs. Pure state; the caller performs the returned actions.
///
/// - Records with the same key run strictly in offset order; different keys run concurrently.
/// - At most `maxRunning` records run per process; the rest wait in a ready queue per merchant, served in turn
///   (``MerchantTurns``): a merchant's backlog never stands in front of another merchant's text.
/// - A record whose merchant's budget is spent gives its slot back (``yield(_:wait:now:)``) and waits as its lane's
///   head, holding no slot, until the budget has tokens again; meanwhile the merchant's other records do not start.
/// - A partition holding `maxBufferedPerPartition` unfinished records is paused (the poll loop keeps polling)
///   and resumed when it drops to `resumeAtBuffered`.
/// - The offset to store is the lowest unfinished offset, or one past the highest received when all are done.
/// - While topics are suspended (circuit open, ``suspend(_:)``) nothing new of theirs starts, except one probe when
///   none of theirs is running; other topics' records flow on (a Gorgias outage never holds `sms.consent` back).
/// - Records from retry tiers may carry a not-before instant: they hold their key's lane but take no running slot
///   until due.
/// - A revoke (for its partitions) or a stop (for all) lets what started finish, with the unstarted records below
///   it, and drops the rest uncommitted for the next owner.
struct DispatchStateMachine {
    struct Limits: Sendable {
        var maxRunning: Int
        var maxBufferedPerPartition: Int
        var resumeAtBuffered: Int

        init(maxRunning: Int, maxBufferedPerPartition: Int, resumeAtBuffered: Int? = nil) {
            precondition(maxRunning > 0 && maxBufferedPerPartition > 0)
            self.maxRunning = maxRunning
            self.maxBufferedPerPartition = maxBufferedPerPartition
            self.resumeAtBuffered = resumeAtBuffered ?? maxBufferedPerPartition / 2
        }
    }

    /// The ordering lane of a record: its key, or the record alone when it has none.
    enum LaneKey: Hashable, Sendable {
        case key(HashedKey)
        case unkeyed(Int64)
    }

    /// A record key with its hash worked out once: each record's lane is looked up several times under the lock.
    struct HashedKey: Hashable, Sendable {
        let bytes: [UInt8]
        private let hash: Int

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
            var hasher = Hasher()
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
            hash = hasher.finalize()
        }

        static func == (lhs: HashedKey, rhs: HashedKey) -> Bool { lhs.hash == rhs.hash && lhs.bytes == rhs.bytes }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    }

    /// A record handed out to run, tagged with its partition's assignment generation. A class: a dispatch moves
    /// through lanes, the ready queue, actions and tasks, and each copy of a reference is one retain where a copy
    /// of the record's fields was five.
    final class Dispatch: Sendable, MerchantScoped {
        let record: KafkaRecord
        let generation: UInt64
        let lane: LaneKey
        let merchant: Merchant
        let notBefore: ContinuousClock.Instant?

        init(
            record: KafkaRecord, generation: UInt64, lane: LaneKey, merchant: Merchant,
            notBefore: ContinuousClock.Instant?
        ) {
            self.record = record
            self.generation = generation
            self.lane = lane
            self.merchant = merchant
            self.notBefore = notBefore
        }

        var topicPartition: TopicPartition { record.topicPartition }
        var offset: Int64 { record.offset }

        /// The same dispatch, due now.
        var undelayed: Dispatch {
            Dispatch(record: record, generation: generation, lane: lane, merchant: merchant, notBefore: nil)
        }
    }

    enum Action: Sendable {
        case start(Dispatch)
        /// Call ``due(_:now:)`` for this dispatch at the instant.
        case delay(Dispatch, until: ContinuousClock.Instant)
        case pause([TopicPartition])
        case resume([TopicPartition])
        case storeOffset(TopicPartition, Int64)
        /// Call ``budgetFreed(_:)`` for this merchant at the instant.
        case wake(Merchant, at: ContinuousClock.Instant)
    }

    private struct Slot {
        var offset: Int64
        var finished: Bool
        var timestamp: Date?
    }

    private struct Partition {
        var generation: UInt64
        /// The merchant scope of the partition's records (its topic's source), worked out once at assignment.
        let scope: String
        var window = Deque<Slot>()
        var unfinished = 0
        var nextOffset: Int64?
        var storedOffset: Int64?
        var lanes: [LaneKey: Deque<Dispatch>] = [:]
        /// Lanes whose head waits for its due time (no running slot taken).
        var delayedLanes: Set<LaneKey> = []
        /// Lanes whose head started, was throttled and waits for its merchant's budget (no running slot taken).
        var yieldedLanes: Set<LaneKey> = []
        var running = 0
        /// The highest offset started in this generation (-1: none).
        var highestStarted: Int64 = -1
        var paused = false
        var revoking = false
    }

    /// Which topics' records may not start (circuit open).
    enum Suspension: Sendable, Hashable {
        case none
        case all
        /// These consumed topics (sources and their retry tiers).
        case topics(Set<String>)

        func contains(_ topic: String) -> Bool {
            switch self {
            case .none: false
            case .all: true
            case .topics(let topics): topics.contains(topic)
            }
        }
    }

    let limits: Limits
    private var partitions: [TopicPartition: Partition] = [:]
    /// Heads of lanes waiting for a running slot, per merchant, merchants in turn.
    private var ready: MerchantTurns<Dispatch>
    /// Heads of lanes of suspended topics, in the order they became ready.
    private var held = Deque<Dispatch>()
    private(set) var running = 0
    private(set) var suspension = Suspension.none
    private(set) var stopped = false

    var suspended: Bool { suspension != .none }
    private var nextGeneration: UInt64 = 1

    init(limits: Limits) {
        self.limits = limits
        self.ready = MerchantTurns(window: limits.maxRunning)
    }

    // MARK: Assignment

    /// Starts tracking newly assigned partitions (fresh generation, nothing buffered).
    mutating func assign(_ topicPartitions: [TopicPartition]) -> [Action] {
        var toPause: [TopicPartition] = []
        for topicPartition in topicPartitions {
            var partition = Partition(
                generation: nextGeneration, scope: RetryTopology.sourceTopic(of: topicPartition.topic))
            nextGeneration += 1
            if suspension.contains(topicPartition.topic) {
                partition.paused = true
                toPause.append(topicPartition)
            }
            partitions[topicPartition] = partition
        }
        return toPause.isEmpty ? [] : [.pause(toPause)]
    }

    /// Stops accepting records of the partitions and dispatching beyond what started (see ``dropUnstarted(_:)``):
    /// running records and the unstarted ones below them go on so the drain can finish them.
    /// Returns how many lanes still have work (see ``pendingWork(in:)``).
    mutating func beginRevoke(_ topicPartitions: [TopicPartition]) -> Int {
        for topicPartition in topicPartitions { partitions[topicPartition]?.revoking = true }
        dropUnstarted(Set(topicPartitions))
        return pendingWork(in: topicPartitions)
    }

    /// Lanes of these partitions with a record running or waiting to run; zero once drained.
    func pendingWork(in topicPartitions: [TopicPartition]) -> Int {
        topicPartitions.reduce(0) { $0 + (partitions[$1]?.lanes.count ?? 0) }
    }

    /// Forgets the partitions; later finishes of their records only free running slots.
    /// Returns the offsets to store before giving them up (empty when the assignment was lost).
    mutating func finishRevoke(_ topicPartitions: [TopicPartition], lost: Bool) -> [(TopicPartition, Int64)] {
        let revoked = Set(topicPartitions)
        ready.removeAll { revoked.contains($0.topicPartition) }
        held.removeAll { revoked.contains($0.topicPartition) }
        var offsets: [(TopicPartition, Int64)] = []
        for topicPartition in topicPartitions {
            guard let partition = partitions.removeValue(forKey: topicPartition) else { continue }
            if !lost, let committable = Self.committable(partition) {
                offsets.append((topicPartition, committable))
            }
        }
        return offsets
    }

    var assigned: [TopicPartition] { Array(partitions.keys) }

    // MARK: Records

    /// Accepts a consumed record. Duplicates of already-received offsets (re-fetch after a resume) are ignored.
    mutating func receive(
        _ record: KafkaRecord, notBefore: ContinuousClock.Instant? = nil, now: ContinuousClock.Instant
    ) -> [Action] {
        let topicPartition = record.topicPartition
        // Take the partition out while mutating it: a copy left in the dictionary would make every mutation of its
        // lanes and window copy the whole collection.
        guard var partition = partitions.removeValue(forKey: topicPartition) else { return [] }
        defer { partitions[topicPartition] = partition }
        guard !partition.revoking, !stopped else { return [] }
        if let next = partition.nextOffset, record.offset < next { return [] }
        partition.nextOffset = record.offset + 1
        partition.window.append(Slot(offset: record.offset, finished: false, timestamp: record.timestamp))
        partition.unfinished += 1
        let lane: LaneKey = record.key.map { .key(HashedKey($0)) } ?? .unkeyed(record.offset)
        let dispatch = Dispatch(
            record: record, generation: partition.generation, lane: lane,
            merchant: Merchant(key: record.key, scope: partition.scope),
            notBefore: notBefore)
        var actions: [Action] = []
        var becameHead = false
        if partition.lanes[lane] != nil {
            partition.lanes[lane]!.append(dispatch)  // in place through the dictionary's modify accessor
        } else {
            partition.lanes[lane] = [dispatch]
            becameHead = true
        }
        if !partition.paused && partition.unfinished >= limits.maxBufferedPerPartition {
            partition.paused = true
            actions.append(.pause([topicPartition]))
        }
        if becameHead { makeReady(dispatch, in: &partition, now: now, into: &actions) }
        return actions
    }

    /// A delayed record became due.
    mutating func due(_ dispatch: Dispatch, now: ContinuousClock.Instant) -> [Action] {
        guard isCurrent(dispatch), var partition = partitions.removeValue(forKey: dispatch.topicPartition) else {
            return []
        }
        defer { partitions[dispatch.topicPartition] = partition }
        guard !partition.revoking, !stopped, partition.delayedLanes.remove(dispatch.lane) != nil else { return [] }
        var actions: [Action] = []
        makeReady(dispatch.undelayed, in: &partition, now: now, into: &actions)
        return actions
    }

    /// A started record finished (done, skipped, or handed to a retry/dead-letter topic).
    mutating func finish(_ dispatch: Dispatch, now: ContinuousClock.Instant) -> [Action] {
        running -= 1
        ready.ended(dispatch.merchant)
        var actions: [Action] = []
        let topicPartition = dispatch.topicPartition
        if isCurrent(dispatch), var partition = partitions.removeValue(forKey: topicPartition) {
            partition.running -= 1
            Self.markFinished(&partition, offset: dispatch.offset)
            if let committable = Self.committable(partition), committable != partition.storedOffset {
                partition.storedOffset = committable
                actions.append(.storeOffset(topicPartition, committable))
            }
            var next: Dispatch?
            if var lane = partition.lanes.removeValue(forKey: dispatch.lane) {
                lane.removeFirst()
                if let head = lane.first {
                    partition.lanes[dispatch.lane] = lane
                    next = head
                }
            }
            if partition.paused && !suspension.contains(topicPartition.topic) && !stopped
                && partition.unfinished <= limits.resumeAtBuffered
            {
                partition.paused = false
                actions.append(.resume([topicPartition]))
            }
            // The follower queues behind heads already waiting: taking the freed slot ahead of them would let the
            // keys that started first keep their slots until their lanes ran dry, while other keys, partitions and
            // merchants waited (a partition fetched later then ran alone at the end, on a fraction of the slots).
            if let next { makeReady(next, in: &partition, now: now, behindWaiting: true, into: &actions) }
            partitions[topicPartition] = partition
        }
        fillRunningSlots(into: &actions)
        return actions
    }

    /// A started record gave up without finishing (cancelled): its slot is freed, its offset stays unfinished
    /// (so it is never committed) and its lane stays blocked until the partition is revoked or redelivered.
    mutating func abandon(_ dispatch: Dispatch) -> [Action] {
        running -= 1
        ready.ended(dispatch.merchant, grows: false)
        return dropLane(of: dispatch)
    }

    /// Whether a throttled record may wait here for its merchant's budget (``yield(_:wait:now:)``) rather than be
    /// deferred to a retry tier: not while its partition is full, where waiting records would keep every other
    /// merchant's records of the partition from being fetched.
    func mayHold(_ dispatch: Dispatch) -> Bool {
        guard isCurrent(dispatch), let partition = partitions[dispatch.topicPartition] else { return false }
        return partition.unfinished < limits.maxBufferedPerPartition && !partition.revoking && !stopped
    }

    /// A started record found its merchant's budget spent: it gives its slot back and waits as its lane's head, in
    /// front of its merchant's queue, until the budget has tokens again (`wait`). During a revoke or a stop it is
    /// dropped instead, uncommitted, for the next owner (as ``abandon(_:)``).
    mutating func yield(_ dispatch: Dispatch, wait: Duration, now: ContinuousClock.Instant) -> [Action] {
        running -= 1
        let beganWaiting = ready.throttled(dispatch.merchant)
        var actions: [Action] = beganWaiting ? [.wake(dispatch.merchant, at: now + wait)] : []
        guard isCurrent(dispatch), var partition = partitions.removeValue(forKey: dispatch.topicPartition) else {
            fillRunningSlots(into: &actions)
            return actions
        }
        if partition.revoking || stopped {
            partitions[dispatch.topicPartition] = partition
            return actions + dropLane(of: dispatch)
        }
        partition.running -= 1
        partition.yieldedLanes.insert(dispatch.lane)
        partitions[dispatch.topicPartition] = partition
        ready.enqueue(dispatch, first: true)
        fillRunningSlots(into: &actions)
        return actions
    }

    /// The merchant's budget has tokens again: its waiting records may start.
    mutating func budgetFreed(_ merchant: Merchant) -> [Action] {
        ready.budgetFreed(merchant)
        var actions: [Action] = []
        fillRunningSlots(into: &actions)
        return actions
    }

    /// Merchants whose records wait for their budget, how many, and when the oldest was produced.
    func waitingForBudget() -> [(merchant: String, waiting: Int, oldest: Date?)] {
        ready.waitingForBudget().map { ($0.merchant.name, $0.waiting, $0.oldest.record.timestamp) }
    }

    /// Frees a given-up record's partition slot and blocks its lane (see ``abandon(_:)``).
    private mutating func dropLane(of dispatch: Dispatch) -> [Action] {
        if isCurrent(dispatch), var partition = partitions[dispatch.topicPartition] {
            partition.running -= 1
            // The lane cannot proceed past an unfinished head: its followers are left for redelivery too.
            partition.lanes[dispatch.lane] = nil
            partitions[dispatch.topicPartition] = partition
        }
        var actions: [Action] = []
        fillRunningSlots(into: &actions)
        return actions
    }

    /// Shutdown: pauses every partition for good and accepts no more records. Running records, and unstarted ones
    /// below them, go on so they can be finished and committed; later ones are dropped, uncommitted, for the next
    /// owner (see ``dropUnstarted(_:)``).
    mutating func stop() -> [Action] {
        stopped = true
        suspension = .none
        for dispatch in held { ready.enqueue(dispatch) }
        held.removeAll()
        dropUnstarted(Set(partitions.keys))
        ready.freeAllBudgets()  // what is left must not wait for a timer
        var toPause: [TopicPartition] = []
        for (topicPartition, partition) in partitions where !partition.paused {
            partitions[topicPartition]?.paused = true
            toPause.append(topicPartition)
        }
        var actions: [Action] = toPause.isEmpty ? [] : [.pause(toPause)]
        fillRunningSlots(into: &actions)  // the circuit may have held stragglers back
        return actions
    }

    /// Lanes with work left in every partition (shutdown drain).
    var pendingWork: Int { partitions.values.reduce(0) { $0 + $1.lanes.count } }

    // MARK: Suspension (circuit breaker)

    /// Suspends or resumes dispatch of new records and fetching on every partition.
    mutating func suspend(_ on: Bool) -> [Action] {
        suspend(on ? .all : .none)
    }

    /// Suspends dispatch and fetching for the topics `suspension` names, resuming every other topic.
    mutating func suspend(_ suspension: Suspension) -> [Action] {
        guard suspension != self.suspension, !stopped else { return [] }
        self.suspension = suspension
        // Re-sort the waiting heads: newly suspended topics' move to `held`, resumed topics' back to their merchants.
        var waiting = held
        held.removeAll()
        ready.removeAll { dispatch in
            guard suspension.contains(dispatch.topicPartition.topic) else { return false }
            waiting.append(dispatch)
            return true
        }
        for dispatch in waiting {
            if suspension.contains(dispatch.topicPartition.topic) {
                held.append(dispatch)
            } else {
                ready.enqueue(dispatch)
            }
        }
        var paused: [TopicPartition] = []
        var resumed: [TopicPartition] = []
        for (topicPartition, var partition) in partitions where !partition.revoking {
            let shouldPause =
                suspension.contains(topicPartition.topic) || partition.unfinished >= limits.maxBufferedPerPartition
            if shouldPause != partition.paused {
                partition.paused = shouldPause
                partitions[topicPartition] = partition
                if shouldPause { paused.append(topicPartition) } else { resumed.append(topicPartition) }
            }
        }
        var actions: [Action] = []
        if !paused.isEmpty { actions.append(.pause(paused)) }
        if !resumed.isEmpty { actions.append(.resume(resumed)) }
        fillRunningSlots(into: &actions)
        return actions
    }

    // MARK: Inspection

    /// Unfinished records per partition and the timestamp of the oldest one (for lag in seconds).
    func windowSummary() -> [TopicPartition: (unfinished: Int, oldest: Date?)] {
        partitions.mapValues { partition in
            (partition.unfinished, partition.window.first { !$0.finished }?.timestamp)
        }
    }

    var readyCount: Int { ready.count + held.count }

    // MARK: Internals

    private func isCurrent(_ dispatch: Dispatch) -> Bool {
        partitions[dispatch.topicPartition]?.generation == dispatch.generation
    }

    /// Stops dispatching the partitions beyond what already started: a record above the partition's highest started
    /// offset is dropped (left unfinished, so the committable offset stops at it and the next owner gets it), as are
    /// lanes waiting for a due time or for their merchant's budget, and unstarted records of a merchant waiting for
    /// its budget (a drain must not wait for the budget's timer; the next owner gets them). Other unstarted records
    /// below that offset still run: a finished record above them would otherwise be redelivered. So a revoke or a
    /// shutdown drains what is running and the stragglers behind it, never the whole buffer.
    private mutating func dropUnstarted(_ topicPartitions: Set<TopicPartition>) {
        var dropped: [TopicPartition: Set<LaneKey>] = [:]
        let waiting = ready.merchantsWaitingForBudget
        let drop = { (dispatch: Dispatch) -> Bool in
            guard topicPartitions.contains(dispatch.topicPartition),
                let partition = self.partitions[dispatch.topicPartition],
                partition.generation == dispatch.generation,
                dispatch.offset > partition.highestStarted || partition.yieldedLanes.contains(dispatch.lane)
                    || waiting.contains(dispatch.merchant)
            else { return false }
            dropped[dispatch.topicPartition, default: []].insert(dispatch.lane)
            return true
        }
        ready.removeAll(where: drop)
        held.removeAll(where: drop)
        for topicPartition in topicPartitions {
            guard var partition = partitions.removeValue(forKey: topicPartition) else { continue }
            let droppedLanes = partition.delayedLanes.union(partition.yieldedLanes).union(dropped[topicPartition] ?? [])
            var kept: [LaneKey: Deque<Dispatch>] = [:]
            for (lane, var queue) in partition.lanes where !droppedLanes.contains(lane) {
                // The head is running or waits for a slot below the cutoff; followers beyond the cutoff go.
                while queue.count > 1, let last = queue.last, last.offset > partition.highestStarted {
                    queue.removeLast()
                }
                kept[lane] = queue
            }
            partition.lanes = kept
            partition.delayedLanes = []
            partition.yieldedLanes = []
            partitions[topicPartition] = partition
        }
    }

    /// Starts, queues or delays the head of a lane. `partition` is the dispatch's partition, taken out of the
    /// dictionary by the caller. With `behindWaiting`, a head that could start queues instead while other heads wait
    /// for a slot (the caller fills the slots after): when a slot has just been freed, heads may be waiting for it.
    private mutating func makeReady(
        _ dispatch: Dispatch, in partition: inout Partition, now: ContinuousClock.Instant,
        behindWaiting: Bool = false, into actions: inout [Action]
    ) {
        if let notBefore = dispatch.notBefore, notBefore > now {
            if stopped || partition.revoking {
                partition.lanes[dispatch.lane] = nil
                return
            }
            partition.delayedLanes.insert(dispatch.lane)
            actions.append(.delay(dispatch, until: notBefore))
        } else if suspension.contains(dispatch.topicPartition.topic) {
            if running < limits.maxRunning && held.isEmpty && partition.running == 0
                && !suspendedRunning(except: dispatch.topicPartition)
            {
                actions.append(begin(dispatch, in: &partition))  // the probe: nothing of the suspended topics runs
            } else {
                held.append(dispatch)
            }
        } else if running < limits.maxRunning && ready.mayRun(dispatch.merchant) && !(behindWaiting && ready.count > 0)
        {
            actions.append(begin(dispatch, in: &partition))
        } else {
            ready.enqueue(dispatch)
        }
    }

    /// Takes a running slot for `dispatch` (`partition` is its partition, taken out of the dictionary).
    private mutating func begin(_ dispatch: Dispatch, in partition: inout Partition) -> Action {
        running += 1
        ready.started(dispatch.merchant)
        partition.running += 1
        partition.highestStarted = max(partition.highestStarted, dispatch.offset)
        partition.yieldedLanes.remove(dispatch.lane)
        return .start(dispatch)
    }

    /// Whether a record of a suspended topic runs (in a partition other than `excluded`, taken out by the caller).
    private func suspendedRunning(except excluded: TopicPartition?) -> Bool {
        partitions.contains { $0.key != excluded && suspension.contains($0.key.topic) && $0.value.running > 0 }
    }

    /// Starts a queued dispatch of a current generation.
    private mutating func startNow(_ dispatch: Dispatch) -> Action {
        var partition = partitions.removeValue(forKey: dispatch.topicPartition)!
        defer { partitions[dispatch.topicPartition] = partition }
        return begin(dispatch, in: &partition)
    }

    /// Starts ready records while slots are free; of the suspended topics, only one probe when none of theirs runs.
    private mutating func fillRunningSlots(into actions: inout [Action]) {
        while running < limits.maxRunning, let next = ready.next() {
            guard isCurrent(next) else { continue }
            actions.append(startNow(next))
        }
        guard suspension != .none, !stopped, !suspendedRunning(except: nil) else { return }
        let suspendedPartitions = partitions.filter { suspension.contains($0.key.topic) }
        while running < limits.maxRunning, let probe = held.popFirst() {
            guard isCurrent(probe) else { continue }
            actions.append(startNow(probe))
            return
        }
        // Nothing to probe with: let records flow in so the first one can probe the dependency.
        let paused = suspendedPartitions.filter {
            $0.value.paused && !$0.value.revoking && $0.value.unfinished < limits.maxBufferedPerPartition
        }.map(\.key)
        for topicPartition in paused { partitions[topicPartition]?.paused = false }
        if !paused.isEmpty { actions.append(.resume(paused)) }
    }

    private static func markFinished(_ partition: inout Partition, offset: Int64) {
        var low = 0
        var high = partition.window.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let candidate = partition.window[middle].offset
            if candidate == offset {
                if !partition.window[middle].finished {
                    partition.window[middle].finished = true
                    partition.unfinished -= 1
                }
                break
            } else if candidate < offset {
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        while let first = partition.window.first, first.finished { partition.window.removeFirst() }
    }

    private static func committable(_ partition: Partition) -> Int64? {
        partition.window.first?.offset ?? partition.nextOffset
    }
}
