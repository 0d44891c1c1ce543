import Foundation
import Testing
import LocalFleet
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import TestSupport
import SwitchboardStore

/// The real InboundWorker process against the embedded broker, the sandbox and a SQLite store.
@Suite("InboundWorker end to end", .serialized, .timeLimit(.minutes(10)))
struct InboundEndToEndTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    func text(
        _ account: E2EFleet.TestAccount, from: String, _ body: String, sid: String, at: Date = Date(),
        media: [InboundText.Media] = [], name: String? = nil
    ) -> OutgoingRecord {
        InboundText(
            accountId: account.id, messageSid: sid, from: from, to: account.number, body: body, receivedAt: at,
            media: media,
            customer: CustomerHint(name: name)
        ).record(id: sid, source: "test")
    }

    func tickets(_ fleet: E2EFleet, _ account: String) async throws -> [JSONValue] {
        try await fleet.gorgias(account)["tickets"]?.arrayValue ?? []
    }

    func messages(_ ticket: JSONValue) -> [JSONValue] { ticket["messages"]?.arrayValue ?? [] }

    @Test(
        "a first text opens a ticket for a new customer with three Gorgias calls; the next one threads onto it with one"
    )
    func firstAndThreaded() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        try await fleet.produce([
            text(acme, from: "+15551110001", "Where is my order?", sid: "SM-first", name: "Jane Doe")
        ])
        #expect(await eventually { (try? await tickets(fleet, "acme").count) == 1 }, "\(fleet.logs)")
        let callsAfterFirst = try await fleet.gorgias("acme")["calls"]?.intValue ?? 0
        #expect(callsAfterFirst == 3, "a new customer's first text: the lookup by phone, the customer, the ticket")
        let customer = try #require(try await fleet.gorgias("acme")["customers"]?.arrayValue?.first)
        #expect(customer["external_id"] == "sms:+15551110001" && customer["name"] == "Jane Doe")
        try await fleet.produce([text(acme, from: "+15551110001", "Hello?", sid: "SM-second")])
        #expect(await eventually { (try? await tickets(fleet, "acme").first.map(messages)?.count) == 2 })
        let callsAfterSecond = try await fleet.gorgias("acme")["calls"]?.intValue ?? 0
        #expect(callsAfterSecond - callsAfterFirst == 1, "a threaded text must cost exactly one Gorgias call")
        let ticket = try #require(try await tickets(fleet, "acme").first)
        let first = try #require(messages(ticket).first)
        #expect(first["from_agent"] == false && first["channel"] == "sms" && first["external_id"] == "SM-first")
        #expect(first["sent_datetime"]?.stringValue != nil)
        #expect(ticket["external_id"]?.stringValue?.hasPrefix("conv:") == true)
        #expect(messages(ticket).map { $0["body_text"]?.stringValue ?? "" } == ["Where is my order?", "Hello?"])
        await fleet.shutdown()
    }

    @Test(
        "media at an address other than the SMS provider's is never fetched with its credentials: https links are listed in the text, others refused"
    )
    func media() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        try await fleet.produce([
            text(
                acme, from: "+15551110002", "photo", sid: "MM-1",
                media: [
                    .init(url: "https://media.example/a.jpg", contentType: "image/jpeg"),
                    .init(url: "http://media.example/v.mp4", contentType: "video/mp4"),
                ])
        ])
        #expect(await eventually { (try? await tickets(fleet, "acme").count) == 1 })
        let ticket = try #require(try await tickets(fleet, "acme").first)
        let message = try #require(messages(ticket).first)
        #expect(message["attachments"]?.arrayValue?.isEmpty ?? true)
        let body = message["body_text"]?.stringValue ?? ""
        #expect(body.contains("[Attachment image/jpeg: https://media.example/a.jpg]"), "\(body)")
        #expect(
            body.contains("[Attachment video/mp4 not imported: it is not at an https address]")
                && !body.contains("http://media.example"), "\(body)")
        await fleet.shutdown()
    }

    @Test(
        "STOP leaves no ticket message, notes and closes the ticket, sends one confirmation; HELP answers; START resubscribes"
    )
    func consent() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme, twilioOptOutHandling: false) { $0.consentReplies = .switchboard }
        try await fleet.start(.inbound)
        let phone = "+15551110003"
        try await fleet.produce([text(acme, from: phone, "I need help with my order", sid: "SM-c1")])
        #expect(await eventually { (try? await tickets(fleet, "acme").count) == 1 })
        try await fleet.produce([text(acme, from: phone, "Stop.", sid: "SM-c2")])
        #expect(await eventually { (try? await tickets(fleet, "acme").first?["status"]) == "closed" }, "\(fleet.logs)")
        var ticket = try #require(try await tickets(fleet, "acme").first)
        #expect(!messages(ticket).contains { $0["body_text"] == "Stop." })
        let notes = messages(ticket).filter { $0["channel"] == "internal-note" }
        #expect(notes.count == 1 && notes.first?["body_text"]?.stringValue?.contains("opted out of SMS") == true)
        #expect(
            await eventually { (try? await fleet.sms(acme).filter { $0["direction"] == "outbound-api" }.count) == 1 })
        let confirmation = try #require(try await fleet.sms(acme).first { $0["direction"] == "outbound-api" })
        #expect(
            confirmation["to"]?.stringValue == phone
                && confirmation["body"]?.stringValue?.contains("unsubscribed") == true)
        #expect(
            try await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: phone)?.state }
                == .unsubscribed)

        try await fleet.produce([
            text(acme, from: "+15551110099", "help", sid: "SM-c3"), text(acme, from: phone, "START", sid: "SM-c4"),
        ])
        #expect(
            await eventually { (try? await fleet.sms(acme).filter { $0["direction"] == "outbound-api" }.count) == 3 })
        let help = try #require(try await fleet.sms(acme).first { $0["to"]?.stringValue == "+15551110099" })
        #expect(
            help["body"]?.stringValue?.contains("Msg&data rates may apply") == true
                && help["body"]?.stringValue?.contains("STOP") == true)
        #expect(
            await eventually {
                (try? await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: phone)?.state })
                    == .subscribed
            })
        ticket = try #require(try await tickets(fleet, "acme").first)
        #expect(try await tickets(fleet, "acme").count == 1, "keywords never open tickets")
        #expect(!messages(ticket).contains { ["help", "START"].contains($0["body_text"]?.stringValue ?? "") })
        await fleet.shutdown()
    }

    @Test(
        "with the leave-open setting STOP notes but does not close; a provider that confirms itself gets no second confirmation"
    )
    func consentSettings() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme) { settings in
            settings.stopClosesTicket = false
            settings.consentReplies = .provider
        }
        try await fleet.start(.inbound)
        try await fleet.produce([
            text(acme, from: "+15551110004", "hi", sid: "SM-s1"),
            text(acme, from: "+15551110004", "STOP", sid: "SM-s2"),
        ])
        #expect(await eventually { (try? await tickets(fleet, "acme").first.map(messages)?.count) == 2 })
        try await Task.sleep(for: .seconds(1))
        let ticket = try #require(try await tickets(fleet, "acme").first)
        #expect(ticket["status"] == "open")
        #expect(messages(ticket).last?["channel"] == "internal-note")
        #expect(try await fleet.sms(acme).filter { $0["direction"] == "outbound-api" }.isEmpty)
        await fleet.shutdown()
    }

    @Test("a text on a closed ticket opens a new ticket by default, and reopens it under the reopen policy")
    func closedTicketPolicy() async throws {
        let fleet = try await E2EFleet()
        let globex = E2EFleet.TestAccount(id: "globex")
        try await fleet.addAccount(acme)
        try await fleet.addAccount(globex) { $0.closedTicketPolicy = .reopen }
        try await fleet.start(.inbound)
        try await fleet.produce([
            text(acme, from: "+15551110005", "first", sid: "SM-p1"),
            text(globex, from: "+15551110005", "first", sid: "SM-p2"),
        ])
        #expect(
            await eventually {
                let acmeCount = try? await tickets(fleet, "acme").count
                let globexCount = try? await tickets(fleet, "globex").count
                return acmeCount == 1 && globexCount == 1
            })
        for account in ["acme", "globex"] {
            let ticketId = try #require(try await tickets(fleet, account).first?["id"]?.intValue)
            try await fleet.sandbox.post("/sandbox/gorgias/\(account)/tickets/\(ticketId)/status", ["status": "closed"])
            try await fleet.withStore {
                _ = try await $0.applyTicketStatus(
                    TicketStatusChange(
                        accountId: account, ticketId: ticketId, status: .closed, snoozedUntil: nil, updatedAt: Date()))
            }
        }
        try await fleet.produce([
            text(acme, from: "+15551110005", "again", sid: "SM-p3"),
            text(globex, from: "+15551110005", "again", sid: "SM-p4"),
        ])
        #expect(await eventually { (try? await tickets(fleet, "acme").count) == 2 })
        #expect(await eventually { (try? await tickets(fleet, "globex").first.map(messages)?.count) == 2 })
        #expect(try await tickets(fleet, "globex").count == 1)
        #expect(try await tickets(fleet, "globex").first?["status"] == "open")
        // Isolation: neither account sees the other's customers or tickets.
        let acmeCustomers = try await fleet.gorgias("acme")["customers"]?.arrayValue ?? []
        #expect(acmeCustomers.count == 1)
        #expect(
            try await tickets(fleet, "acme").allSatisfy {
                messages($0).allSatisfy { !["SM-p2", "SM-p4"].contains($0["external_id"]?.stringValue ?? "") }
            })
        await fleet.shutdown()
    }

    @Test(
        "the same event three times yields one message; unknown and disconnected accounts are skipped; bad input is dead-lettered or handled"
    )
    func duplicatesAndBadInput() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.addAccount(E2EFleet.TestAccount(id: "gone"))
        try await fleet.withStore { _ = try await $0.setAccountStatus(id: "gone", .disconnected) }
        try await fleet.start(.inbound)
        let once = text(acme, from: "+15551110006", "thrice", sid: "SM-d1")
        let long = String(repeating: "long text ", count: 200)
        var invalidPhone = text(acme, from: "+15551110006", "x", sid: "SM-d2")
        invalidPhone.value = Array(
            String(decoding: invalidPhone.value, as: UTF8.self).replacingOccurrences(
                of: "\"from\":\"+15551110006\"", with: "\"from\":\"5551110006\""
            ).utf8)
        try await fleet.produce([
            once, once, once,
            text(E2EFleet.TestAccount(id: "nobody"), from: "+15551110006", "unknown", sid: "SM-d3"),
            text(E2EFleet.TestAccount(id: "gone"), from: "+15551110006", "disconnected", sid: "SM-d4"),
            text(acme, from: "+15551110006", "   ", sid: "SM-d5"),
            text(acme, from: "+15551110006", long, sid: "SM-d6"),
            invalidPhone,
        ])
        #expect(
            await eventually { (try? await tickets(fleet, "acme").first.map(messages)?.count) == 2 }, "\(fleet.logs)")
        let dead = try await fleet.broker.read("sms.inbound.dlq", atLeast: 1)
        #expect(dead.count == 1 && dead.first?.header(FailureHeaders.errorClass) == "event.schema_invalid")
        #expect(dead.first?.header(FailureHeaders.errorMessage)?.contains("/data/from") == true)
        try await Task.sleep(for: .seconds(1))
        let ticket = try #require(try await tickets(fleet, "acme").first)
        #expect(messages(ticket).map { $0["body_text"]?.stringValue ?? "" } == ["thrice", long])
        #expect(try await fleet.gorgias("gone")["tickets"]?.arrayValue?.isEmpty ?? true)
        #expect(try await fleet.sms(acme).isEmpty)
        let metrics = await fleet.workers[0].metrics()
        #expect(metricSum(metrics, "switchboard_records_total", matching: "outcome=\"ignored\"") >= 3)
        #expect(metricSum(metrics, "switchboard_records_total", matching: "outcome=\"duplicate\"") >= 2)
        await fleet.shutdown()
    }

    @Test("a worker killed with SIGKILL mid-stream and restarted leaves no duplicate and no missing message")
    func crashRecovery() async throws {
        let fleet = try await E2EFleet(environment: ["KAFKA_SESSION_TIMEOUT_MS": "6000"])
        let shop = E2EFleet.TestAccount(id: "acme", oauth: true)
        try await fleet.addAccount(shop)
        let first = try await fleet.start(.inbound)
        let count = 120
        let records = (0..<count).map { index in
            text(shop, from: "+1555120\(String(format: "%04d", index % 12))", "message \(index)", sid: "SM-k\(index)")
        }
        try await fleet.produce(records)
        #expect(
            await eventually(timeout: .seconds(60)) {
                let imported = (try? await tickets(fleet, "acme").reduce(0) { $0 + messages($1).count }) ?? 0
                return imported >= 30
            })
        await first.kill9()
        try await fleet.restart(first, waitReady: true)
        #expect(
            await eventually(timeout: .seconds(120)) {
                ((try? await tickets(fleet, "acme").reduce(0) { $0 + messages($1).count }) ?? 0) >= count
            }, "\(fleet.logs)")
        try await Task.sleep(for: .seconds(2))
        let all = try await tickets(fleet, "acme").flatMap(messages)
        let ids = all.compactMap { $0["external_id"]?.stringValue }
        #expect(ids.count == count, "imported \(ids.count) messages for \(count) texts")
        #expect(Set(ids).count == count, "duplicates: \(ids.count - Set(ids).count)")
        #expect(try await tickets(fleet, "acme").count == 12)
        await fleet.shutdown()
    }
}
