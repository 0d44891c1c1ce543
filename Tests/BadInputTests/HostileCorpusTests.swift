import Foundation
import Testing
import LocalFleet
@testable import Sandbox
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import TestSupport
import SwitchboardDomain
import SwitchboardStore

@Suite("Bad-input corpus", .timeLimit(.minutes(5)))
struct HostileCorpusTests {
    static let cases = HostileCorpus.cases()

    @Test("the corpus covers all five topics with at least 100 hostile records")
    func coverage() {
        #expect(Self.cases.count >= 100)
        #expect(Set(Self.cases.map(\.kind)) == Set(EventKind.allCases))
        for kind in EventKind.allCases {
            let outcomes = Set(Self.cases.filter { $0.kind == kind }.map(\.outcome))
            #expect(
                outcomes.contains(.handled) && outcomes.contains(.deadLettered("event.conflicting_duplicate")),
                "\(kind)")
        }
    }

    @Test(
        "the decoder rejects each broken record with its error class and accepts each hostile but valid one",
        arguments: cases)
    func decoding(_ hostile: HostileCase) {
        let record = KafkaRecord(
            topic: hostile.kind.topic, partition: 0, offset: 0, key: hostile.key.map { Array($0.utf8) },
            value: hostile.value)
        let result = EventDecoder().decode(record, sourceTopic: hostile.kind.topic)
        switch (result, hostile.decoderClass) {
        case (.success, nil): break
        case (.failure(let rejection), let expected?):
            #expect(rejection.errorClass == expected, "\(rejection)")
            #expect(!rejection.reason.isEmpty && rejection.reason.count < 2_000, "the reason is short and says why")
        case (.success, let expected?): Issue.record("decoded, expected \(expected)")
        case (.failure(let rejection), nil): Issue.record("rejected as \(rejection), expected to decode")
        }
    }

    @Test(
        "through the real workers: each broken record is dead-lettered by offset with its class, nothing else is, and good records behind them flow"
    )
    func throughTheFleet() async throws {
        let fleet = try await E2EFleet()
        let acme = E2EFleet.TestAccount(id: HostileCorpus.account)
        try await fleet.addAccount(acme)
        let conversation = try await fleet.seedConversation(acme, phone: "+15551230000", consent: .subscribed)
        let reply = try await fleet.agentReply(
            acme, ticketId: conversation.ticketId, body: "the good reply behind the corpus")
        let good = GoodRecords(fleet: fleet, account: acme, conversation: conversation, reply: reply)
        for kind in [WorkerProcess.Kind.inbound, .outbound, .status] { try await fleet.start(kind) }

        let reports = try await fleet.broker.producer.sendAll(Self.cases.map(\.record) + good.records)
        let byLocation = Dictionary(
            uniqueKeysWithValues: zip(reports.prefix(Self.cases.count).map { "\($0.topic)@\($0.offset)" }, Self.cases))
        let ends = Dictionary(reports.map { ($0.topic, $0.offset + 1) }, uniquingKeysWith: max)
        let finished = await eventually(timeout: .seconds(150), every: .milliseconds(500)) {
            for (topic, end) in ends {
                let group = FleetRoster.member(consuming: topic)!.group
                guard
                    (try? await fleet.broker.committed(group: group, topic: topic, partitions: 1))?[
                        TopicPartition(topic, 0)] == end
                else { return false }
            }
            return true
        }
        #expect(finished, "every partition is consumed to its end: \(fleet.logs.suffix(4000))")

        var deadLettered: [String: DeadLetter] = [:]
        for topic in ends.keys {
            for record in try await fleet.broker.allRecords("\(topic).dlq") {
                let letter = DeadLetter(record)
                let location = "\(letter.originalTopic)@\(letter.originalOffset ?? -1)"
                #expect(deadLettered[location] == nil, "\(location) dead-lettered twice")
                deadLettered[location] = letter
            }
        }
        for (location, hostile) in byLocation {
            switch hostile.outcome {
            case .deadLettered(let errorClass):
                #expect(
                    deadLettered[location]?.errorClass == errorClass,
                    "\(hostile.testDescription) → \(deadLettered[location]?.errorClass ?? "not dead-lettered")")
                #expect(deadLettered[location]?.reason.isEmpty == false)
                #expect(
                    deadLettered[location]?.record.value == hostile.value, "the dead letter keeps the original bytes")
            case .handled:
                #expect(
                    deadLettered[location] == nil,
                    "\(hostile.testDescription) was dead-lettered: \(deadLettered[location]?.reason ?? "")")
            }
        }
        #expect(Set(deadLettered.keys).isSubset(of: Set(byLocation.keys)), "only corpus records are dead-lettered")

        try await good.expectEffects()
        try await expectHostileContentHandledSafely(fleet)
        let running = fleet.workers.filter(\.isRunning).count
        #expect(running == 3, "no worker crashed: \(fleet.logs.suffix(3000))")
        await fleet.shutdown()
    }

    /// Scripts and SQL reach the helpdesk as text (escaped in HTML); a forged account's text reaches no real
    /// account; SQL in a name is stored as a name.
    func expectHostileContentHandledSafely(_ fleet: E2EFleet) async throws {
        let messages = (try await fleet.gorgias(HostileCorpus.account)["tickets"]?.arrayValue ?? []).flatMap {
            $0["messages"]?.arrayValue ?? []
        }
        // Bodies start with the text as sent; the sample's media (on Twilio's host, not the sandbox's) follows as a link line.
        let bodies = messages.compactMap { $0["body_text"]?.stringValue }
        #expect(bodies.contains { $0.hasPrefix(CorpusBuilder.sqlBody) })
        #expect(bodies.contains { $0.hasPrefix(CorpusBuilder.controlBody) })
        let script = try #require(
            messages.first { $0["body_text"]?.stringValue?.hasPrefix(CorpusBuilder.scriptBody) == true })
        let html = script["body_html"]?.stringValue ?? ""
        #expect(html.contains("&lt;script&gt;") && !html.contains("<script") && !html.contains("<img"), "\(html)")
        let forged = try #require(Self.cases.first { $0.kind == .inboundText && $0.name == "a forged account id" })
        let forgedSid = try JSONParser.parse(forged.value)["data"]?["messageSid"]?.stringValue
        #expect(
            forgedSid != nil && !messages.contains { $0["external_id"]?.stringValue == forgedSid },
            "a forged account's text reached a real account")
        let named = try await fleet.withStore {
            try await $0.subscriber(accountId: HostileCorpus.account, phone: "+15551239001")
        }
        #expect(named?.name == CorpusBuilder.sqlBody)
        let samplePhone = "+15551234567"
        let forgedConsent = try await fleet.withStore {
            try await $0.subscriber(accountId: "forged-shop", phone: samplePhone)
        }
        #expect(forgedConsent == nil, "a forged account's consent change was stored")
    }
}
