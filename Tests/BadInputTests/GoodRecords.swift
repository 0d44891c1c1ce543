import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardKafka
import TestSupport
import SwitchboardDomain
import SwitchboardJSON
import SwitchboardStore

/// One good record per topic, produced behind the corpus on the same partition: their effects prove the rest of
/// each partition kept flowing past the hostile records.
struct GoodRecords {
    let fleet: E2EFleet
    let account: E2EFleet.TestAccount
    let conversation: E2EFleet.Seeded
    let reply: Int64
    let newcomer = "+15551230001"
    let signUp = "+15551230002"

    /// Everything but the delivery status, which needs the reply's provider id (see ``expectEffects()``).
    var records: [OutgoingRecord] {
        let now = Date()
        return [
            InboundText(
                accountId: account.id, messageSid: "SMgoodbehind", from: newcomer, to: account.number,
                body: "the good text behind the corpus", receivedAt: now
            )
            .record(id: "good:text", source: "corpus"),
            fleet.replyEvent(account, ticketId: conversation.ticketId, messageId: reply),
            TicketUpdate(accountId: account.id, ticketId: conversation.ticketId, status: .closed, updatedAt: now)
                .record(id: "good:ticket", source: "corpus"),
            SubscriptionUpdate(accountId: account.id, phone: signUp, state: .subscribed, at: now, source: "signup-form")
                .record(id: "good:signup", source: "corpus"),
        ].map { record in
            var record = record
            record.partition = 0
            return record
        }
    }

    /// The text is a ticket, the reply an SMS (whose delivery status then lands), the ticket closed, the sign-up stored.
    func expectEffects() async throws {
        let tickets = try await fleet.gorgias(account.id)["tickets"]?.arrayValue ?? []
        #expect(
            tickets.contains { ($0["messages"]?.arrayValue ?? []).contains { $0["external_id"] == "SMgoodbehind" } })
        let sent = try await fleet.sms(account)
        let sms = try #require(sent.first { $0["to"]?.stringValue == conversation.phone }, "the good reply was sent")
        let sid = try #require(sms["sid"]?.stringValue)
        var delivered = DeliveryUpdate(accountId: account.id, messageSid: sid, status: "delivered", at: Date()).record(
            id: "good:delivered", source: "corpus")
        delivered.partition = 0
        try await fleet.produce([delivered])
        let id = account.id
        #expect(
            await eventually(timeout: .seconds(30)) {
                (try? await fleet.withStore { try await $0.outbound(accountId: id, providerSid: sid) })??.state
                    == .delivered
            })
        let ticketId = conversation.ticketId
        let history = try await fleet.withStore { try await $0.ticketHistory(accountId: id, ticketId: ticketId) }
        #expect(history.last?.status == .closed)
        let phone = signUp
        let subscriber = try await fleet.withStore { try await $0.subscriber(accountId: id, phone: phone) }
        #expect(subscriber?.state == .subscribed)
    }
}
