import Foundation
@testable import OutboundWorker
import Testing
import SwitchboardDomain
import SwitchboardHTTP
import SwitchboardStore
import TestSupport
@testable import WorkerKit
import SwitchboardGorgias
import SwitchboardJSON

/// The reply path's consent rules, run in this process through ``ReplySender`` (with a seam between the reply's
/// claim and its send), against the sandbox and both store backends.
@Suite("Reply consent", .usesPostgres, .serialized, .timeLimit(.minutes(5)))
struct ReplyConsentTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    /// A reply job as the OutboundWorker builds it for an agent's reply on the customer's seeded ticket.
    func job(_ fleet: E2EFleet, _ seeded: E2EFleet.Seeded, body: String, eventId: String, http: HTTPClient) async throws
        -> ReplyJob
    {
        let account = try #require(try await fleet.withStore { try await $0.account(id: "acme") })
        let entry = try AccountDirectory.entry(for: account, box: try SecretBox(base64Key: fleet.secretKey), http: http)
        let messageId = try await fleet.agentReply(acme, ticketId: seeded.ticketId, body: body)
        let message = try await entry.gorgias.message(ticketId: seeded.ticketId, id: messageId)
        let conversation = try #require(
            try await fleet.withStore { try await $0.conversation(accountId: "acme", phone: seeded.phone) })
        return ReplyJob(
            eventId: eventId, ticketId: seeded.ticketId, message: message, content: ReplyContent(message),
            conversation: conversation, entry: entry)
    }

    @Test(
        "a STOP committed while a reply waits between its consent check and its send stops the send",
        arguments: StoreBackend.allCases)
    func stopWhileReplyInFlight(backend: StoreBackend) async throws {
        let fleet = try await E2EFleet(database: try freshDatabaseURL(backend))
        try await fleet.addAccount(acme)
        let seeded = try await fleet.seedConversation(acme, phone: "+15552230001", consent: .subscribed)
        try await HTTPClient.withClient { http in
            try await fleet.withStore { store in
                // Control: without a STOP in between, the reply goes out.
                let plain = ReplySender(store: store)
                #expect(
                    try await plain.deliver(
                        try await job(fleet, seeded, body: "Your order shipped", eventId: "e1", http: http)) == .sent)

                // The reply passed the early checks and is claimed; the customer's STOP commits before its send starts.
                let racing = ReplySender(store: store) {
                    _ = try await store.applyConsent(
                        ConsentChange(
                            accountId: "acme", phone: seeded.phone, state: .unsubscribed, at: Date(),
                            source: ConsentSource.keyword(.optOut), eventId: "SMstop"
                        ))
                }
                let second = try await job(fleet, seeded, body: "Here is 20% off", eventId: "e2", http: http)
                #expect(try await racing.deliver(second) == .blocked)
                let record = try await store.outbound(
                    id: OutboundMessage.id(accountId: "acme", ticketId: seeded.ticketId, messageId: second.message.id))
                #expect(record?.state == .blocked && record?.sendStartedAt == nil)
            }
        }
        let sent = try await fleet.sent(acme, to: seeded.phone).compactMap { $0["body"]?.stringValue }
        #expect(sent == ["Your order shipped"], "the reply after the STOP was never sent")
        #expect(
            try await fleet.notes(acme, seeded.ticketId).contains {
                $0.contains("not sent by SMS") && $0.contains("unsubscribed")
            })
        await fleet.shutdown()
    }

    @Test(
        "the conversational-replies option answers a recent texter without consent; the blocked note names the option when it is off",
        arguments: [StoreBackend.sqlite])
    func conversational(backend: StoreBackend) async throws {
        let fleet = try await E2EFleet(database: try freshDatabaseURL(backend))
        try await fleet.addAccount(acme)
        let seeded = try await fleet.seedConversation(acme, phone: "+15552230002", consent: nil)
        try await HTTPClient.withClient { http in
            try await fleet.withStore { store in
                let sender = ReplySender(store: store)
                #expect(
                    try await sender.deliver(try await job(fleet, seeded, body: "Hi there", eventId: "c1", http: http))
                        == .blocked)
                var account = try #require(try await store.account(id: "acme"))
                account.settings.conversationalReplyHours = 24
                try await store.updateAccount(account)
                #expect(
                    try await sender.deliver(
                        try await job(fleet, seeded, body: "We can help", eventId: "c2", http: http)) == .sent)
            }
        }
        #expect(try await fleet.sent(acme, to: seeded.phone).compactMap { $0["body"]?.stringValue } == ["We can help"])
        let note = try #require(try await fleet.notes(acme, seeded.ticketId).first)
        #expect(note.contains("no SMS consent on record") && note.contains("--conversational-reply-hours"), "\(note)")
        await fleet.shutdown()
    }
}
