import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardKafka
import TestSupport
import SwitchboardRuntime

/// A merchant beyond its Gorgias budget, through one InboundWorker: its burst drains at the budget's rate, other
/// merchants' texts are not held up by it, and a long overload drains in order without retry tiers or dead letters.
///
/// The budget is an API-key account's: 36 burst tokens (40 less ``RateBudget/gorgiasReserve``) and 2 calls per
/// second. A first text of a new customer costs 3 calls (the lookup by phone, the customer, the ticket), a threaded
/// one 1.
@Suite("Merchants beyond their budget", .serialized, .timeLimit(.minutes(30)))
struct BurstProgressTests {
    static let callsPerFirstText = 3
    static let budgetPerSecond = 2.0
    static let burstTokens = 40 - RateBudget.gorgiasReserve

    @Test(
        "one merchant bursts 3,000 texts from 500 new customers: they reach Gorgias at no less than 80% of its budget")
    func burstMakesProgress() async throws {
        let burst = E2EFleet.TestAccount(id: "burst")
        let fleet = try await E2EFleet(partitions: 6)
        try await fleet.addAccount(burst)
        try await fleet.start(.inbound)
        let started = ContinuousClock.now
        try await fleet.produce(Self.texts(account: burst, customers: 500, rounds: 6))
        func ticketCount() async -> Int { (try? await fleet.gorgias("burst")["tickets"]?.arrayValue?.count) ?? 0 }
        #expect(
            await eventually(timeout: .seconds(15)) { await ticketCount() >= 5 },
            "first tickets within seconds:\n\(fleet.logs)")
        let window = 30.0
        _ = await eventually(timeout: .seconds(window)) { ContinuousClock.now - started >= .seconds(window) }
        let calls = Self.callsDone(try await fleet.gorgias("burst"))
        let allowed = Self.burstTokens + Self.budgetPerSecond * window
        print("burst: \(calls) calls' worth of texts in Gorgias after \(Int(window)) s of \(Int(allowed)) allowed")
        #expect(
            Double(calls) >= 0.8 * allowed,
            "a burst beyond the budget drains at the budget's rate: \(calls) of \(allowed)")
        await fleet.shutdown()
    }

    @Test("while one merchant bursts 3,000 texts, every text of 20 other merchants reaches Gorgias within 1 s (p99)")
    func othersAreNotHeldUp() async throws {
        let burst = E2EFleet.TestAccount(id: "burst")
        let others = (0..<20).map {
            E2EFleet.TestAccount(id: "calm\($0)", number: "+1555765\(String(format: "%04d", $0))")
        }
        let fleet = try await E2EFleet(partitions: 6)
        for account in [burst] + others { try await fleet.addAccount(account) }
        try await fleet.start(.inbound)
        try await fleet.produce(Self.texts(account: burst, customers: 500, rounds: 6))
        let producedAt = Date()
        try await fleet.produce(others.flatMap { Self.texts(account: $0, customers: 5, rounds: 1) })
        func arrivals() async -> [Double] {
            var delays: [Double] = []
            for account in others {
                let tickets = (try? await fleet.gorgias(account.id)["tickets"]?.arrayValue) ?? []
                for message in tickets.flatMap({ $0["messages"]?.arrayValue ?? [] }) {
                    guard let created = message["created_datetime"]?.stringValue.flatMap(GorgiasDate.parse) else {
                        continue
                    }
                    delays.append(created.timeIntervalSince(producedAt))
                }
            }
            return delays.sorted()
        }
        #expect(await eventually(timeout: .seconds(30)) { await arrivals().count >= 100 }, "\(fleet.logs)")
        let delays = await arrivals()
        let p99 = delays[min(delays.count - 1, Int((Double(delays.count) * 0.99).rounded(.up)) - 1)]
        let p50 = delays[delays.count / 2]
        print(
            "fairness: \(delays.count) texts of 20 other merchants beside a 3,000-text burst: p50 \(Self.ms(p50)), p99 \(Self.ms(p99)), max \(Self.ms(delays.last!))"
        )
        #expect(delays.count == 100, "each text once")
        #expect(p99 <= 1.0, "p99 from produced to Gorgias: \(Self.ms(p99))")
        await fleet.shutdown()
    }

    @Test(
        "a merchant texting at three times its budget: all in order, nothing dead-lettered, done near the budget's drain time"
    )
    func longOverloadDrains() async throws {
        let seconds = Int(ProcessInfo.processInfo.environment["SWITCHBOARD_OVERLOAD_SECONDS"] ?? "") ?? 40
        let merchant = E2EFleet.TestAccount(id: "campaign")
        let fleet = try await E2EFleet(partitions: 6)
        try await fleet.addAccount(merchant)
        try await fleet.start(.inbound)
        let customers = 10
        // Three times the budget in calls: 6 calls a second; the first round's texts cost 3 each.
        let perSecond = Int(3 * Self.budgetPerSecond)
        let all = Self.texts(account: merchant, customers: customers, rounds: seconds * perSecond / customers)
        let started = Date()
        for (second, batch) in stride(from: 0, to: all.count, by: perSecond).enumerated() {
            let due = started.addingTimeInterval(Double(second))
            if due > Date() { try await Task.sleep(for: .seconds(due.timeIntervalSinceNow)) }
            try await fleet.produce(Array(all[batch..<min(batch + perSecond, all.count)]))
        }
        let calls = Double(customers * Self.callsPerFirstText + all.count - customers)
        let drainTime = max(Double(seconds), (calls - Self.burstTokens) / Self.budgetPerSecond)
        func messages() async -> [JSONValue] {
            let tickets = (try? await fleet.gorgias(merchant.id)["tickets"]?.arrayValue) ?? []
            return tickets.flatMap { $0["messages"]?.arrayValue ?? [] }
        }
        #expect(
            await eventually(timeout: .seconds(drainTime + 90 - Date().timeIntervalSince(started))) {
                await messages().count >= all.count
            })
        let arrived = await messages()
        let last = arrived.compactMap { $0["created_datetime"]?.stringValue.flatMap(GorgiasDate.parse) }.max()
        let finished = last.map { $0.timeIntervalSince(started) } ?? .infinity
        var reproduced = 0
        for tier in fleet.broker.topology.tiers.indices {
            reproduced += try await fleet.broker.allRecords(
                fleet.broker.topology.retryTopic(EventKind.inboundText.topic, tier: tier)
            ).count
        }
        let gorgiasCalls = metricSum(
            await fleet.workers[0].metrics(), "switchboard_http_requests_total", matching: "service=\"gorgias\"")
        let dead = try await fleet.broker.allRecords(fleet.broker.topology.deadLetterTopic(EventKind.inboundText.topic))
        print(
            "overload: \(all.count) texts at 3x the budget for \(seconds) s; last in Gorgias after \(Int(finished)) s, drain time at the budget \(Int(drainTime)) s; \(reproduced) re-productions to retry tiers (\(Double(reproduced) / Double(all.count)) per text); \(Int(gorgiasCalls)) Gorgias calls for \(Int(calls))"
        )
        #expect(gorgiasCalls == calls, "no call spent on finding out whether a throttled try got through")
        #expect(arrived.count == all.count, "each text once")
        #expect(dead.isEmpty, "nothing dead-lettered")
        #expect(reproduced <= all.count / 10, "texts wait for the budget, not in retry tiers: \(reproduced)")
        #expect(finished <= drainTime + 60, "done within a minute of the drain time: \(finished) s vs \(drainTime) s")
        for ticket in (try await fleet.gorgias(merchant.id)["tickets"]?.arrayValue) ?? [] {
            let rounds = (ticket["messages"]?.arrayValue ?? []).compactMap { message in
                message["body_text"]?.stringValue.flatMap { Int($0.split(separator: " ").last ?? "") }
            }
            #expect(rounds == rounds.sorted(), "a conversation's texts in order: \(rounds)")
        }
        await fleet.shutdown()
    }

    /// `rounds` texts from each of `customers` new customers of `account`, round by round.
    static func texts(account: E2EFleet.TestAccount, customers: Int, rounds: Int) -> [OutgoingRecord] {
        (0..<rounds).flatMap { round in
            (0..<customers).map { customer in
                let sid = "SM\(account.id)c\(customer)r\(round)"
                return InboundText(
                    accountId: account.id, messageSid: sid, from: "+1555160\(String(format: "%04d", customer))",
                    to: account.number, body: "message \(round)", receivedAt: Date()
                ).record(id: sid, source: "test")
            }
        }
    }

    /// The calls' worth of texts in an account's Gorgias: 3 per ticket's first message, 1 per later one.
    static func callsDone(_ state: JSONValue) -> Int {
        let tickets = state["tickets"]?.arrayValue ?? []
        let messages = tickets.reduce(0) { $0 + ($1["messages"]?.arrayValue?.count ?? 0) }
        return tickets.count * callsPerFirstText + (messages - tickets.count)
    }

    static func ms(_ seconds: Double) -> String { "\(Int(seconds * 1000)) ms" }
}
