import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import TestSupport
import SwitchboardDomain

/// One fault run: several accounts with subscribed and unsubscribed customers, customer texts and agent replies
/// produced while a fault is injected, then the invariants checked against the sandbox's record and the DLQs.
///
/// `SWITCHBOARD_LONG_FAULTS=1` runs the long variant (5,200 events) instead of the CI one (560).
final class FaultRun: @unchecked Sendable {
    static var long: Bool { ProcessInfo.processInfo.environment["SWITCHBOARD_LONG_FAULTS"] == "1" }

    let fleet: E2EFleet
    let accounts: [E2EFleet.TestAccount]
    let customersPerAccount: Int
    let eventsPerCustomer: Int
    private(set) var customers: [String: [E2EFleet.Seeded]] = [:]
    private(set) var texts: [(account: String, sid: String)] = []
    private(set) var replies: [(account: String, ticketId: Int64, phone: String, body: String, sendable: Bool)] = []

    /// Customers whose index is a multiple of 5 never consented: replies to them must become notes, never SMS.
    static func sendable(_ index: Int) -> Bool { index % 5 != 4 }

    init(fleet: E2EFleet) {
        self.fleet = fleet
        let accountCount = Self.long ? 20 : 8
        customersPerAccount = Self.long ? 10 : 5
        eventsPerCustomer = Self.long ? 13 : 7
        accounts = (0..<accountCount).map {
            E2EFleet.TestAccount(id: "shop\($0)", number: "+1555700\(String(format: "%04d", $0))", oauth: true)
        }
    }

    var eventCount: Int { texts.count + replies.count }

    /// Adds the accounts and seeds one conversation (customer and ticket) per customer. Nothing is produced yet.
    /// Sequential: each seed opens its own SQLite connection, and concurrent opens of the test's database file were
    /// refused with SQLITE_BUSY despite the busy timeout (not yet understood; workers retry such errors).
    func prepare() async throws {
        for (accountIndex, account) in accounts.enumerated() {
            try await fleet.addAccount(account)
            var seeded: [E2EFleet.Seeded] = []
            for index in 0..<customersPerAccount {
                let phone = "+1555\(String(format: "%03d", accountIndex))\(String(format: "%04d", index))"
                seeded.append(
                    try await fleet.seedConversation(
                        account, phone: phone, consent: Self.sendable(index) ? .subscribed : nil))
            }
            customers[account.id] = seeded
        }
    }

    static func replyBody(round: Int, phone: String, account: String) -> String {
        "answer \(round) for \(phone) at \(account)"
    }

    /// The events, interleaved: per customer, texts and replies alternate (each in its own key order). The agents'
    /// replies are created in the sandbox first, concurrently per account and in order within one.
    func events() async throws -> [OutgoingRecord] {
        let messageIds = try await perAccount { account in
            var ids: [Int64] = []
            for round in 0..<self.eventsPerCustomer {
                for customer in self.customers[account.id] ?? [] {
                    let body = Self.replyBody(round: round, phone: customer.phone, account: account.id)
                    ids.append(try await self.fleet.agentReply(account, ticketId: customer.ticketId, body: body))
                }
            }
            return ids
        }
        var next = Dictionary(uniqueKeysWithValues: accounts.map { ($0.id, 0) })
        var records: [OutgoingRecord] = []
        for round in 0..<eventsPerCustomer {
            for account in accounts {
                for (index, customer) in (customers[account.id] ?? []).enumerated() {
                    let sid = "SM\(account.id)r\(round)c\(index)"
                    texts.append((account.id, sid))
                    records.append(
                        InboundText(
                            accountId: account.id, messageSid: sid, from: customer.phone, to: account.number,
                            body: "question \(round)", receivedAt: Date()
                        ).record(id: sid, source: "fault-run"))
                    let message = messageIds[account.id]![next[account.id]!]
                    next[account.id]! += 1
                    replies.append(
                        (
                            account.id, customer.ticketId, customer.phone,
                            Self.replyBody(round: round, phone: customer.phone, account: account.id),
                            Self.sendable(index)
                        ))
                    records.append(fleet.replyEvent(account, ticketId: customer.ticketId, messageId: message))
                }
            }
        }
        return records
    }

    /// Runs `body` for every account concurrently; returns the results by account id.
    private func perAccount<T: Sendable>(_ body: @escaping @Sendable (E2EFleet.TestAccount) async throws -> T)
        async throws -> [String: T]
    {
        try await withThrowingTaskGroup(of: (String, T).self) { group in
            for account in accounts {
                group.addTask { (account.id, try await body(account)) }
            }
            var results: [String: T] = [:]
            for try await (id, result) in group { results[id] = result }
            return results
        }
    }

    /// Waits until every text is in Gorgias or a DLQ and every reply is an SMS or a note (or `timeout`).
    func waitUntilSettled(timeout: Duration) async -> Bool {
        await eventually(timeout: timeout, every: .seconds(2)) {
            guard let state = try? await self.snapshot() else { return false }
            return state.unsettled(self).isEmpty
        }
    }

    /// What the sandbox and the DLQs hold now.
    func snapshot() async throws -> Snapshot {
        var snapshot = Snapshot()
        for account in accounts {
            let gorgias = try await fleet.gorgias(account.id)
            for ticket in gorgias["tickets"]?.arrayValue ?? [] {
                for message in ticket["messages"]?.arrayValue ?? [] {
                    if let id = message["external_id"]?.stringValue {
                        snapshot.imported[id, default: []].append(account.id)
                    }
                    if message["channel"] == "internal-note" {
                        snapshot.notes[account.id, default: [:]][ticket["id"]?.intValue ?? 0, default: 0] += 1
                    }
                }
                snapshot.ticketOwners[ticket["id"]?.intValue ?? 0] = account.id
            }
            for sms in try await fleet.sms(account) where sms["direction"] == "outbound-api" {
                snapshot.sms.append((account.id, sms["to"]?.stringValue ?? "", sms["body"]?.stringValue ?? ""))
            }
        }
        for record in try await fleet.broker.allRecords("sms.inbound.dlq") {
            if let event = try? JSONParser.parse(record.value), let id = event["id"]?.stringValue {
                snapshot.deadLetteredTexts[id] = DeadLetter(record)
            }
        }
        snapshot.deadLetteredReplies = try await fleet.broker.allRecords("helpdesk.replies.dlq").count
        return snapshot
    }

    struct Snapshot {
        var imported: [String: [String]] = [:]
        var notes: [String: [Int64: Int]] = [:]
        var ticketOwners: [Int64: String] = [:]
        var sms: [(account: String, to: String, body: String)] = []
        /// Dead-lettered texts by event id.
        var deadLetteredTexts: [String: DeadLetter] = [:]
        var deadLetteredReplies = 0

        /// What is not yet accounted for.
        func unsettled(_ run: FaultRun) -> [String] {
            var missing = run.texts.filter { imported[$0.sid] == nil && deadLetteredTexts[$0.sid] == nil }.map {
                "text \($0.sid)"
            }
            let sentBodies = Set(sms.map(\.body))
            let sendable = run.replies.filter(\.sendable)
            missing += sendable.filter { !sentBodies.contains($0.body) }.prefix(5).map { "reply \($0.body)" }
            let blocked = Dictionary(
                grouping: run.replies.filter { !$0.sendable }, by: { "\($0.account)#\($0.ticketId)" })
            for (key, group) in blocked {
                let parts = key.split(separator: "#")
                if (notes[String(parts[0])]?[Int64(parts[1]) ?? 0] ?? 0) < group.count {
                    missing.append("notes on \(key)")
                }
            }
            return missing + (deadLetteredReplies > 0 ? ["\(deadLetteredReplies) dead-lettered replies"] : [])
        }
    }

    /// The invariants of issue 9, recorded as test issues.
    func checkInvariants(_ snapshot: Snapshot, sourceLocation: SourceLocation = #_sourceLocation) {
        // Every inbound text is a ticket message exactly once, or explained in the DLQ. Both only when retries were
        // exhausted: a create whose response was lost, then failures until every tier was spent (a redrive finds
        // the message by its external id); a rejected text never reached Gorgias.
        for text in texts {
            let copies = snapshot.imported[text.sid]?.count ?? 0
            let letter = snapshot.deadLetteredTexts[text.sid]
            let explained =
                copies == 1 && (letter == nil || letter?.kind == .retriesExhausted) || copies == 0 && letter != nil
            #expect(
                explained,
                "text \(text.sid): \(copies) messages, dead-lettered: \(letter.map { "\($0.kind?.rawValue ?? "?") \($0.errorClass): \($0.reason)" } ?? "no")",
                sourceLocation: sourceLocation
            )
            #expect(
                snapshot.imported[text.sid]?.allSatisfy { $0 == text.account } ?? true,
                "text \(text.sid) landed in another account", sourceLocation: sourceLocation)
        }
        // Every sendable reply is exactly one SMS; no SMS ever reaches a customer without consent.
        let bodies = Dictionary(grouping: snapshot.sms, by: \.body)
        for reply in replies where reply.sendable {
            #expect(
                bodies[reply.body]?.count == 1, "reply \"\(reply.body)\": \(bodies[reply.body]?.count ?? 0) SMS",
                sourceLocation: sourceLocation)
        }
        let unsubscribed = Set(replies.filter { !$0.sendable }.map(\.phone))
        #expect(
            !snapshot.sms.contains { unsubscribed.contains($0.to) }, "an SMS reached a customer without consent",
            sourceLocation: sourceLocation)
        for (key, group) in Dictionary(
            grouping: replies.filter { !$0.sendable }, by: { "\($0.account)#\($0.ticketId)" })
        {
            let parts = key.split(separator: "#")
            #expect(
                snapshot.notes[String(parts[0])]?[Int64(parts[1]) ?? 0] == group.count, "notes on \(key)",
                sourceLocation: sourceLocation)
        }
        // No account sees another's data: SMS go to the account's own customers, from its own Twilio account.
        for sms in snapshot.sms {
            let own = customers[sms.account]?.contains { $0.phone == sms.to } ?? false
            #expect(own, "\(sms.account) texted \(sms.to), not its customer", sourceLocation: sourceLocation)
            #expect(
                sms.body.hasSuffix("at \(sms.account)"), "\(sms.account) sent another account's reply",
                sourceLocation: sourceLocation)
        }
        #expect(
            snapshot.deadLetteredReplies == 0, "replies are never dead-lettered by these faults",
            sourceLocation: sourceLocation)
    }
}
