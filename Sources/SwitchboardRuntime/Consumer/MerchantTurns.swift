import DequeModule
import Foundation

/// The merchant a record belongs to, for fairness: its key up to the first `:`, and the kind of work (its source
/// topic). Every event's key starts with its account id (``EventPayload/partitionKey``); keyless records share one
/// merchant. Its hash is worked out once: the dispatch path hashes a record's merchant several times under the lock.
struct Merchant: Hashable, Sendable {
    let id: [UInt8]
    /// The source topic (a retry tier counts as its source): a merchant's turns, allowance and budget waits are kept
    /// per kind of work, because each kind spends its own budgets. Texts waiting for a spent Gorgias budget (or refused
    /// Gorgias credentials) must not hold back the same merchant's STOPs on `sms.consent`, which never call Gorgias.
    let scope: String
    private let hash: Int

    init(key: [UInt8]?, topic: String = "") {
        self.init(key: key, scope: RetryTopology.sourceTopic(of: topic))
    }

    /// `scope`: the record's source topic, already worked out (``RetryTopology/sourceTopic(of:)``).
    init(key: [UInt8]?, scope: String) {
        id = key.map { Array($0.prefix { $0 != UInt8(ascii: ":") }) } ?? []
        self.scope = scope
        var hasher = Hasher()
        id.withUnsafeBytes { hasher.combine(bytes: $0) }
        hasher.combine(scope)
        hash = hasher.finalize()
    }

    static func == (lhs: Merchant, rhs: Merchant) -> Bool {
        lhs.hash == rhs.hash && lhs.id == rhs.id && lhs.scope == rhs.scope
    }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    /// The account id, as metrics and logs name the merchant.
    var name: String { String(decoding: id, as: UTF8.self) }
}

/// Lane heads waiting for a running slot, queued per merchant and served in turn: a freed slot goes to the next
/// merchant that has work and may run, so one merchant's backlog never stands in front of another merchant's text.
///
/// A merchant may run while it holds fewer slots than its allowance and is not waiting for its budget. The allowance
/// follows what the budget lets through: it is halved when a record of the merchant is throttled (once per wait) and
/// raised by one for each record of it that finishes, never above the whole window. One beyond its budget holds the
/// few slots its budget can finish, and its other records wait here, holding none, until ``budgetFreed(_:)``.
///
/// Where the allowance starts: a merchant that starts while others have work starts at an eighth of the window (at
/// least 8), so a new merchant's burst does not fill every slot (and the store) with records that will only find its
/// budget spent while other merchants wait; a merchant that is never throttled reaches the whole window after a few
/// hundred records. A merchant that starts while no other merchant has anything going on starts at the whole window:
/// there is nobody to be fair to, a merchant alone uses every slot at once (a ramp from an eighth cost `bench runtime`'s
/// sleeping row about 1% of its rate), and if its budget is spent, the cost is one throttled try per slot, after which
/// the allowance halves per wait as above. Merchants that arrive later take turns for the slots it frees.
struct MerchantTurns<Item: MerchantScoped> {
    struct Share {
        var running = 0
        var allowance: Double
        var waitingForBudget = false
        var queue = Deque<Item>()
    }

    /// The most slots any merchant may hold.
    let window: Int
    /// A merchant's allowance when it starts (again) from idle while other merchants have work.
    let initialAllowance: Double
    private var shares: [Merchant: Share] = [:]
    /// Merchants with queued work that may run, in turn order.
    private var turns = Deque<Merchant>()
    private var inTurns = Set<Merchant>()
    private(set) var count = 0

    init(window: Int) {
        self.window = window
        self.initialAllowance = Double(min(window, max(8, window / 8)))
    }

    /// Whether `merchant` may start a record now.
    func mayRun(_ merchant: Merchant) -> Bool {
        guard let share = shares[merchant] else { return true }  // nothing running, and an allowance of at least 1
        return !share.waitingForBudget && Double(share.running) < share.allowance.rounded(.down)
    }

    /// Queues `item` behind its merchant's others (`first`: in front, for one that was already its lane's head).
    mutating func enqueue(_ item: Item, first: Bool = false) {
        let merchant = item.merchant
        modify(merchant) { share in
            if first { share.queue.prepend(item) } else { share.queue.append(item) }
        }
        count += 1
        admit(merchant)
    }

    /// The next merchant's oldest queued item, taking merchants in turn; nil when no merchant with work may run.
    mutating func next() -> Item? {
        while let merchant = turns.popFirst() {
            inTurns.remove(merchant)
            // In place through the dictionary's modify accessor: a copy of the share would copy its whole queue.
            guard mayRun(merchant), let item = shares[merchant]?.queue.popFirst() else { continue }
            count -= 1
            if shares[merchant]?.queue.isEmpty == false {
                turns.append(merchant)
                inTurns.insert(merchant)
            }
            return item
        }
        return nil
    }

    /// A record of `merchant` took a slot.
    mutating func started(_ merchant: Merchant) {
        modify(merchant) { $0.running += 1 }
    }

    /// A record of `merchant` gave its slot back: finished (`grows`: raises the allowance) or abandoned.
    mutating func ended(_ merchant: Merchant, grows: Bool = true) {
        let window = Double(window)
        modify(merchant) { share in
            share.running -= 1
            if grows { share.allowance = min(window, share.allowance + 1) }
        }
        admit(merchant)
    }

    /// A record of `merchant` gave its slot back because the merchant's budget is spent. Returns true when the
    /// merchant starts waiting for its budget (the caller arranges ``budgetFreed(_:)``), false when it already was.
    mutating func throttled(_ merchant: Merchant) -> Bool {
        modify(merchant) { share in
            share.running -= 1
            guard !share.waitingForBudget else { return false }
            share.waitingForBudget = true
            share.allowance = max(1, share.allowance / 2)
            return true
        }
    }

    /// The merchant's budget has tokens again: its records may start.
    mutating func budgetFreed(_ merchant: Merchant) {
        guard shares[merchant]?.waitingForBudget == true else { return }
        modify(merchant) { $0.waitingForBudget = false }
        admit(merchant)
    }

    /// Stops every wait for a budget (shutdown: what still runs must not wait for a timer).
    mutating func freeAllBudgets() {
        for merchant in Array(shares.keys) { budgetFreed(merchant) }
    }

    /// Removes the queued items `predicate` selects.
    mutating func removeAll(where predicate: (Item) -> Bool) {
        for merchant in Array(shares.keys) {
            count -= modify(merchant) { share in
                let before = share.queue.count
                share.queue.removeAll(where: predicate)
                return before - share.queue.count
            }
        }
    }

    /// The merchants waiting for their budget.
    var merchantsWaitingForBudget: Set<Merchant> {
        Set(shares.filter { $0.value.waitingForBudget }.keys)
    }

    /// Merchants whose queued records wait for their budget: how many wait and the oldest of them.
    func waitingForBudget() -> [(merchant: Merchant, waiting: Int, oldest: Item)] {
        shares.compactMap { merchant, share in
            guard share.waitingForBudget || !mayRun(merchant), let first = share.queue.first else { return nil }
            return (merchant, share.queue.count, first)
        }
    }

    /// Changes a merchant's share, forgetting it once it is idle (nothing running, queued or waiting), so the table
    /// holds only merchants with something going on; a merchant back from idle starts again from the initial
    /// allowance, or from the whole window when no other merchant has anything going on.
    @discardableResult
    private mutating func modify<Result>(_ merchant: Merchant, _ change: (inout Share) -> Result) -> Result {
        var share =
            shares.removeValue(forKey: merchant)
            ?? Share(allowance: shares.isEmpty ? Double(window) : initialAllowance)
        let result = change(&share)
        let idle = share.running == 0 && share.queue.isEmpty && !share.waitingForBudget
        if !idle { shares[merchant] = share }
        return result
    }

    /// Puts a merchant with queued work that may run back in turn.
    private mutating func admit(_ merchant: Merchant) {
        guard !inTurns.contains(merchant), mayRun(merchant), shares[merchant]?.queue.isEmpty == false else { return }
        turns.append(merchant)
        inTurns.insert(merchant)
    }
}

/// Something queued per merchant.
protocol MerchantScoped {
    var merchant: Merchant { get }
}
