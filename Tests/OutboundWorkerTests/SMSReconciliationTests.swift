import Foundation
import Testing
import LocalFleet
import Sandbox
import SwitchboardDomain
import SwitchboardJSON
import TestSupport
import SwitchboardStore

/// Exactly one SMS per reply against Twilio's real listing behaviour (issue 15): a lost answer while the message is
/// still queued, and two identical replies that must stay two SMS.
@Suite("SMS reconciliation against queued messages", .serialized, .timeLimit(.minutes(5)))
struct SMSReconciliationTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    func outboundSent(_ fleet: E2EFleet, _ phone: String) async throws -> [JSONValue] {
        try await fleet.sent(acme, to: phone)
    }

    @Test("a reply whose create answer is lost while the message stays queued for 30 s is sent exactly once")
    func lostAnswerWhileQueued() async throws {
        let fleet = try await E2EFleet { $0.faults.smsMinimumQueuedMs = 30_000 }
        try await fleet.addAccount(acme)
        try await fleet.start(.outbound)
        let seeded = try await fleet.seedConversation(acme, phone: "+15552400001", consent: .subscribed)
        try await fleet.sandbox.post("/sandbox/faults", ["smsMinimumQueuedMs": 30_000, "dropNextSMSCreates": 1])
        let reply = try await fleet.agentReply(acme, ticketId: seeded.ticketId, body: "Your refund is on its way")
        try await fleet.produce([fleet.replyEvent(acme, ticketId: seeded.ticketId, messageId: reply)])
        let id = OutboundMessage.id(accountId: "acme", ticketId: seeded.ticketId, messageId: reply)
        #expect(
            await eventually(timeout: .seconds(20)) {
                (try? await fleet.withStore { try await $0.outbound(id: id)?.state }) == .sent
            }, "\(fleet.logs)")
        try await Task.sleep(for: .seconds(3))
        let sent = try await outboundSent(fleet, seeded.phone)
        #expect(sent.count == 1, "sent \(sent.count) times")
        #expect(sent.first?["status"] == "queued", "still queued at Twilio when it was reconciled")
        #expect(
            try await fleet.withStore { try await $0.outbound(id: id)?.providerSid } == sent.first?["sid"]?.stringValue)
        await fleet.shutdown()
    }

    @Test(
        "two identical replies to one customer, with a SIGKILL between and the second's send refused once, are two SMS")
    func identicalReplies() async throws {
        let fleet = try await E2EFleet(environment: ["KAFKA_SESSION_TIMEOUT_MS": "6000"])
        try await fleet.addAccount(acme)
        let seeded = try await fleet.seedConversation(acme, phone: "+15552400002", consent: .subscribed)
        let worker = try await fleet.start(.outbound)
        let first = try await fleet.agentReply(acme, ticketId: seeded.ticketId, body: "OK")
        try await fleet.produce([fleet.replyEvent(acme, ticketId: seeded.ticketId, messageId: first)])
        #expect(await eventually { (try? await outboundSent(fleet, seeded.phone).count) == 1 }, "\(fleet.logs)")
        await worker.kill9()
        try await fleet.restart(worker, waitReady: true)
        // The second send fails before Twilio takes it, so the retry must reconcile: the first "OK" is not its own.
        try await fleet.sandbox.post("/sandbox/faults", ["failNextSMSCreates": 1])
        let second = try await fleet.agentReply(acme, ticketId: seeded.ticketId, body: "OK")
        try await fleet.produce([fleet.replyEvent(acme, ticketId: seeded.ticketId, messageId: second)])
        #expect(
            await eventually(timeout: .seconds(30)) { (try? await outboundSent(fleet, seeded.phone).count) == 2 },
            "\(fleet.logs)")
        try await Task.sleep(for: .seconds(3))
        let sent = try await outboundSent(fleet, seeded.phone)
        #expect(sent.count == 2 && sent.allSatisfy { $0["body"] == "OK" })
        let sids = try await fleet.withStore { store in
            try await [first, second].asyncCompact {
                try await store.outbound(
                    id: OutboundMessage.id(accountId: "acme", ticketId: seeded.ticketId, messageId: $0))?.providerSid
            }
        }
        #expect(Set(sids) == Set(sent.compactMap { $0["sid"]?.stringValue }), "each reply records its own SMS")
        await fleet.shutdown()
    }
}

extension Array where Element: Sendable {
    func asyncCompact<T>(_ transform: (Element) async throws -> T?) async rethrows -> [T] {
        var results: [T] = []
        for element in self { if let value = try await transform(element) { results.append(value) } }
        return results
    }
}
