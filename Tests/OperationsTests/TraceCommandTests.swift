import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import TestSupport
import SwitchboardDomain
import SwitchboardStore

/// `switchboard trace`: what happened to a text, a reply or a customer, from the store and the topics.
@Suite("switchboard trace", .timeLimit(.minutes(3)))
struct TraceCommandTests {
    let acme = E2EFleet.TestAccount(id: "acme")
    let phone = "+15550007777"

    func text(_ body: String, sid: String, data: [String: JSONValue] = [:]) -> OutgoingRecord {
        InboundText(accountId: "acme", messageSid: sid, from: phone, to: acme.number, body: body, receivedAt: Date())
            .record(id: sid, source: "test")
    }

    func trace(_ fleet: E2EFleet, _ arguments: [String]) async throws -> (status: Int32, output: String, errors: String)
    {
        let environment = fleet.environment.filter {
            ["DATABASE_URL", "SWITCHBOARD_SECRET_KEY", "KAFKA_BROKERS", "RETRY_TIERS"].contains($0.key)
        }
        return try await CLIProcess.run(["trace", "--account", "acme"] + arguments, environment: environment)
    }

    @Test("a threaded text: both events processed, both imports done, one ticket; the phone masked unless revealed")
    func threadedText() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        try await fleet.produce([text("first", sid: "SMtrace1"), text("second", sid: "SMtrace2")])
        #expect(
            await eventually(timeout: .seconds(30)) {
                let tickets = (try? await fleet.gorgias("acme")["tickets"]?.arrayValue) ?? []
                return tickets.first?["messages"]?.arrayValue?.count == 2
            }, "\(fleet.logs)")
        let result = try await trace(fleet, ["--phone", phone])
        #expect(result.status == 0, "\(result.errors)")
        for expected in [
            "sms.message.received SMtrace1 on sms.inbound: processed",
            "sms.message.received SMtrace2 on sms.inbound: processed",
            "effect import:SMtrace1 done", "effect import:SMtrace2 done", "open",
        ] {
            #expect(result.output.contains(expected), "\(expected) in:\n\(result.output)")
        }
        #expect(!result.output.contains(phone) && result.output.contains("+1555•••7777"), "\(result.output)")
        #expect(!result.output.contains("first") && !result.output.contains("second"), "no message body")
        let revealed = try await trace(fleet, ["--phone", phone, "--reveal", "--json"])
        let entries = try JSONParser.parse(Array(revealed.output.utf8)).arrayValue ?? []
        #expect(entries.contains { $0["what"]?.stringValue?.contains(phone) == true }, "\(revealed.output)")
        let bySid = try await trace(fleet, ["--sid", "SMtrace2"])
        #expect(bySid.output.contains("effect import:SMtrace1 done"), "an inbound MessageSid finds the conversation")
        await fleet.shutdown()
    }

    @Test("a reply to a customer without consent: the event processed and the SMS blocked, found by ticket")
    func blockedReply() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let seeded = try await fleet.seedConversation(acme, phone: phone, consent: nil)
        try await fleet.start(.outbound)
        let message = try await fleet.agentReply(acme, ticketId: seeded.ticketId, body: "We can help")
        try await fleet.produce([fleet.replyEvent(acme, ticketId: seeded.ticketId, messageId: message)])
        #expect(
            await eventually(timeout: .seconds(30)) {
                let state = try? await fleet.withStore {
                    try await $0.outbound(id: "acme:\(seeded.ticketId):\(message)")?.state
                }
                return state == .blocked
            }, "\(fleet.logs)")
        let result = try await trace(fleet, ["--ticket", String(seeded.ticketId)])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("helpdesk.message.created"), "\(result.output)")
        #expect(
            result.output.contains("reply \(message) on ticket \(seeded.ticketId): SMS blocked"), "\(result.output)")
        await fleet.shutdown()
    }

    @Test("a STOP: the consent change with its keyword")
    func stop() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        try await fleet.produce([text("STOP", sid: "SMtraceStop")])
        #expect(
            await eventually(timeout: .seconds(30)) {
                (try? await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: phone)?.state })
                    == .unsubscribed
            }, "\(fleet.logs)")
        let result = try await trace(fleet, ["--phone", phone])
        #expect(result.output.contains("unsubscribed by \"STOP\""), "\(result.output)")
        #expect(result.output.contains("SMtraceStop"), "\(result.output)")
        await fleet.shutdown()
    }

    @Test("a dead-lettered text: its DLQ record with kind, error class and reason")
    func deadLettered() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        try await fleet.produce([text("one", sid: "SMtraceDup")])
        #expect(
            await eventually(timeout: .seconds(30)) {
                ((try? await fleet.gorgias("acme")["tickets"]?.arrayValue) ?? []).count == 1
            })
        try await fleet.produce([text("another", sid: "SMtraceDup")])  // the same event id with other content
        #expect(
            await eventually(timeout: .seconds(30)) {
                ((try? await fleet.broker.allRecords("sms.inbound.dlq")) ?? []).count == 1
            }, "\(fleet.logs)")
        let result = try await trace(fleet, ["--phone", phone])
        #expect(
            result.output.contains("dead-lettered (rejected, event.conflicting_duplicate)"), "\(result.output)")
        #expect(result.output.contains("sms.inbound.dlq:"), "\(result.output)")
        await fleet.shutdown()
    }
}
