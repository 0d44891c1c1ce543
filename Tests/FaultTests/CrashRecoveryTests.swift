import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardRuntime
import TestSupport
import SwitchboardDomain
import SwitchboardStore
import SwitchboardJSON

/// Crashes of group members on whichever broker this run uses (`SWITCHBOARD_TEST_BROKER`, see ``LocalBroker``): a
/// replacement under the killed member's `group.instance.id` gets back to work within seconds, and nothing is lost
/// or done twice. `scripts/test` runs this suite on every broker combination.
@Suite("Crash recovery", .serialized, .timeLimit(.minutes(8)))
struct CrashRecoveryTests {
    @Test("a SIGKILLed worker's partitions are consumed again within 10 s of its replacement starting (p99 of 5 kills)")
    func timeToResume() async throws {
        guard !TestBroker.isTansu else {
            // Seen with plain kcat consumers too: Tansu 0.6.0 often never completes the rebalance a replaced member
            // starts (the other members are not asked to rejoin), so its partitions stay unconsumed for good.
            print(
                "skipped on Tansu: its coordinator can leave a group rebalancing for good after a member is replaced (README: Compatibility)"
            )
            return
        }
        // The mock cluster keys members by member id only (it has no static membership), so there a replacement waits
        // for the killed member's session to expire; a short session timeout bounds that wait.
        let fleet = try await E2EFleet(
            partitions: 6,
            environment: [
                "WORKER_TOPICS": EventKind.subscription.topic, "KAFKA_SESSION_TIMEOUT_MS": "3000",
                "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            ])
        let account = E2EFleet.TestAccount(id: "recovery")
        try await fleet.addAccount(account)
        for _ in 0..<3 { try await fleet.start(.status) }
        var drill = RecoveryDrill(kills: 5, interval: .seconds(8), rate: 30)
        // Long enough after the last kill that a partition left unowned for good shows as a stall well beyond the
        // bound below.
        drill.cooldown = .seconds(14)
        let timeline = try await drill.run(
            RecoveryDrill.Fleet(
                producer: fleet.broker.producer,
                record: { index in
                    let id = "recovery-\(index)"
                    let phone = "+1555300\(String(format: "%04d", index % 300))"
                    return (
                        id,
                        SubscriptionUpdate(
                            accountId: "recovery", phone: phone, state: .subscribed, at: Date(), source: "test"
                        ).record(id: id, source: "test")
                    )
                },
                victims: { fleet.workers.filter(\.isRunning) },
                restart: { victim in try await fleet.restart(victim) },
                processed: {
                    try await fleet.withStore { try await $0.processedTimes(group: FleetRoster.status.group) }
                }
            ))
        let resumes = SecondsSummary(timeline.timesToResume)
        print(
            "time to resume after SIGKILL (\(LocalBroker.Kind.fromEnvironment), librdkafka \(Librdkafka.version)): \(resumes)"
        )
        #expect(
            timeline.missing.isEmpty,
            "\(timeline.missing.count) records never processed, e.g. \(timeline.missing.prefix(3)); logs in \(fleet.saveLogs("recovery"))"
        )
        #expect(
            resumes.count == 5 && resumes.p99 <= 10, "time to resume \(resumes); logs in \(fleet.saveLogs("recovery"))")
        // After the last recovery a partition may pause once more, for as long as a recovery may take (seen at 6 s on
        // the mock cluster with every other suite running beside it). A partition nobody owns stalls until the end of
        // the run instead.
        #expect(
            timeline.longestStallAfterRecovery <= 10,
            "a stall after the last recovery: \(timeline.longestStallAfterRecovery) s")
        await fleet.shutdown()
    }

    @Test(
        "three InboundWorkers share a group; one is SIGKILLed mid-stream and restarted, a fourth joins: every text is exactly one Gorgias message"
    )
    func threeInboundWorkers() async throws {
        let fleet = try await E2EFleet(partitions: 6)
        // Three merchants (OAuth: 4 Gorgias calls a second each) with ten known customers each: a threaded text costs
        // one call, so the texts flow at about 12 a second.
        let shops = (0..<3).map { E2EFleet.TestAccount(id: "shop\($0)", number: "+155550000\($0)", oauth: true) }
        var customers: [(shop: E2EFleet.TestAccount, phone: String)] = []
        for (index, shop) in shops.enumerated() {
            try await fleet.addAccount(shop)
            for number in 0..<10 {
                let phone = "+155541\(index)\(String(format: "%04d", number))"
                _ = try await fleet.seedConversation(shop, phone: phone, consent: nil)
                customers.append((shop, phone))
            }
        }
        var workers: [WorkerProcess] = []
        for _ in 0..<3 { workers.append(try await fleet.start(.inbound)) }
        let texts = (0..<240).map { index in
            let (shop, phone) = customers[index % customers.count]
            return InboundText(
                accountId: shop.id, messageSid: "SM-three-\(index)", from: phone, to: shop.number,
                body: "text \(index)", receivedAt: Date()
            )
            .record(id: "SM-three-\(index)", source: "test")
        }
        func imported() async -> [String] {
            var ids: [String] = []
            for shop in shops {
                let tickets = (try? await fleet.gorgias(shop.id)["tickets"]?.arrayValue) ?? []
                ids += tickets.flatMap { $0["messages"]?.arrayValue ?? [] }.filter { $0["from_agent"] == false }
                    .compactMap { $0["external_id"]?.stringValue }
            }
            return ids
        }
        let producing = Task {
            for start in stride(from: 0, to: texts.count, by: 20) {
                try await fleet.produce(Array(texts[start..<start + 20]))
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        #expect(await eventually(timeout: .seconds(60)) { await imported().count >= 60 }, "\(fleet.logs)")
        // The member that joined last: Tansu 0.6.0 makes it the leader, and replacing a follower there leaves the group
        // rebalancing for good (README: Compatibility). On the mock cluster it is a follower (the mock elects the
        // lowest group.instance.id).
        if TestBroker.isTansu {
            // Seen in two of six CI runs: after the kill, the restarted member (same group.instance.id) never got an
            // assignment and the killed member's partitions stayed unowned for good; once, a fourth member joining
            // after a replacement did the same. The mock cluster with the same librdkafka passes every time, and a
            // lone worker killed mid-stream and restarted (`InboundEndToEndTests`) runs on Tansu.
            print(
                "skipped on Tansu: the kill, restart and fourth join in a three-member group (its coordinator can leave partitions unowned after a replacement; README: Compatibility)"
            )
        } else {
            let victim = workers[2]
            await victim.kill9()
            try await fleet.restart(victim)
            #expect(await eventually(timeout: .seconds(60)) { await imported().count >= 120 }, "\(fleet.logs)")
            try await fleet.start(.inbound, waitReady: false)
        }
        try await producing.value
        #expect(
            await eventually(timeout: .seconds(180), every: .seconds(1)) { await imported().count >= texts.count },
            "logs in \(fleet.saveLogs("three-inbound"))")
        try await Task.sleep(for: .seconds(3))
        let ids = await imported()
        #expect(ids.count == texts.count, "imported \(ids.count) messages for \(texts.count) texts")
        #expect(Set(ids).count == ids.count, "\(ids.count - Set(ids).count) texts imported twice")
        await fleet.shutdown()
    }
}
