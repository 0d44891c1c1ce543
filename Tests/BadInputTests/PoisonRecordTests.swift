import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardRuntime
import TestSupport
import SwitchboardJSON

/// Records that used to stop a partition for good (issue 21): a key the store cannot hold, and a retry-tier record
/// due in the year 9999.
@Suite("Poison records", .serialized, .timeLimit(.minutes(5)))
struct PoisonRecordTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    func text(from: String, _ body: String, sid: String, partition: Int32, key: String? = nil) -> OutgoingRecord {
        var record = InboundText(
            accountId: "acme", messageSid: sid, from: from, to: acme.number, body: body, receivedAt: Date()
        ).record(id: sid, source: "test")
        record.partition = partition
        if let key { record.key = Array(key.utf8) }
        return record
    }

    @Test("a NUL-keyed record on each partition is dead-lettered exactly once and the records behind it are handled")
    func nulKeys() async throws {
        let fleet = try await E2EFleet(partitions: 3)
        try await fleet.addAccount(acme)
        let worker = try await fleet.start(.inbound)
        var records: [OutgoingRecord] = []
        for partition in 0..<Int32(3) {
            records.append(
                text(
                    from: "+1555140000\(partition)", "poison", sid: "SM-nul\(partition)", partition: partition,
                    key: "acme:+1555\u{0}\(partition)"))
            records.append(
                text(
                    from: "+1555140010\(partition)", "behind the poison \(partition)", sid: "SM-ok\(partition)",
                    partition: partition))
        }
        try await fleet.produce(records)
        #expect(
            await eventually { (try? await fleet.gorgias("acme")["tickets"]?.arrayValue?.count) == 3 }, "\(fleet.logs)")
        try await Task.sleep(for: .seconds(3))
        let dead = try await fleet.broker.allRecords("sms.inbound.dlq")
        #expect(dead.count == 3, "one dead letter each, not one per retry: \(dead.count)")
        #expect(dead.allSatisfy { $0.header(FailureHeaders.errorClass) == "record.invalid_key" })
        #expect(Set(dead.compactMap { $0.header(FailureHeaders.originalPartition) }).count == 3)
        #expect(
            metricSum(await worker.metrics(), "switchboard_dead_letters_total", matching: "record.invalid_key") == 3)
        await fleet.shutdown()
    }

    @Test("a retry-tier record due in the year 9999 runs after its tier's delay and does not hold its partition")
    func farFutureDueTime() async throws {
        let fleet = try await E2EFleet(partitions: 1)
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        var poisoned = text(from: "+15551400020", "from the far future", sid: "SM-9999", partition: 0)
        poisoned.topic = fleet.broker.topology.retryTopic("sms.inbound", tier: 0)
        poisoned.headers = [
            KafkaHeader(key: FailureHeaders.dueAt, string: "9999-12-31T23:59:59Z"),
            KafkaHeader(key: FailureHeaders.originalTopic, string: "sms.inbound"),
        ]
        try await fleet.produce([poisoned])
        try await fleet.produce([text(from: "+15551400021", "behind it", sid: "SM-after", partition: 0)])
        #expect(
            await eventually(timeout: .seconds(20)) {
                (try? await fleet.gorgias("acme")["tickets"]?.arrayValue?.count) == 2
            }, "\(fleet.logs)")
        await fleet.shutdown()
    }
}
