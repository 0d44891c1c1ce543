import Foundation
import Testing

@testable import Shared
import TestSupport

/// A merchant's burst beyond its Gorgias budget makes progress (issue 18's correctness bug): a first text takes the
/// tokens for its whole import at once, so texts finish at the budget's rate instead of all stalling half-done.
@Suite("A burst beyond the budget", .serialized, .timeLimit(.minutes(5)))
struct BurstProgressTests {
    let burst = E2EFleet.TestAccount(id: "burst")

    @Test(
        "100 new customers texting 3 times each through one InboundWorker: first tickets reach Gorgias within seconds and keep coming"
    )
    func burstMakesProgress() async throws {
        let fleet = try await E2EFleet(partitions: 6)
        try await fleet.addAccount(burst)
        try await fleet.start(.inbound)
        var records: [OutgoingRecord] = []
        for round in 0..<3 {
            for customer in 0..<100 {
                let sid = "SMburst\(customer)r\(round)"
                records.append(
                    InboundText(
                        accountId: "burst", messageSid: sid, from: "+1555160\(String(format: "%04d", customer))",
                        to: burst.number,
                        body: "message \(round)", receivedAt: Date()
                    ).record(id: sid, source: "test"))
            }
        }
        let started = ContinuousClock.now
        try await fleet.produce(records)
        func ticketCount() async -> Int { (try? await fleet.gorgias("burst")["tickets"]?.arrayValue?.count) ?? 0 }
        #expect(
            await eventually(timeout: .seconds(15)) { await ticketCount() >= 5 },
            "first tickets within seconds:\n\(fleet.logs)")
        _ = await eventually(timeout: .seconds(40)) { ContinuousClock.now - started >= .seconds(40) }
        let state = try await fleet.gorgias("burst")
        let tickets = state["tickets"]?.arrayValue ?? []
        let messages = tickets.reduce(0) { $0 + ($1["messages"]?.arrayValue?.count ?? 0) }
        // The work done, in calls: a first text costs 4 (two lookups, the customer, the ticket), a threaded one 1.
        let calls = tickets.count * 4 + (messages - tickets.count)
        let allowed = Int(40 - RateBudget.gorgiasReserve) + 2 * 40  // an API-key account's burst and 2 per second for 40 s
        print(
            "burst: \(tickets.count) tickets and \(messages) messages after 40 s: \(calls) calls' worth of work of \(allowed) allowed"
        )
        #expect(
            Double(calls) >= 0.6 * Double(allowed),
            "a burst beyond the budget drains near the budget's rate: \(calls) of \(allowed)")
        await fleet.shutdown()
    }
}
