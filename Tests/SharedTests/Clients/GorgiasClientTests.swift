import Foundation
import Logging
import Testing
import Sandbox
import SwitchboardBase
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardStore
import TestSupport
@testable import WorkerKit
import SwitchboardDomain

@Suite("Gorgias client against the sandbox", .serialized, .timeLimit(.minutes(3)))
struct GorgiasClientTests {
    func client(
        _ sandbox: SandboxFixture, _ http: HTTPClient, subdomain: String = "acme",
        limiter: any RateLimiter = UnlimitedRateLimiter()
    ) -> GorgiasClient {
        GorgiasClient(
            baseURL: sandbox.gorgiasBaseURL(subdomain),
            credentials: .apiKey(email: "ops@\(subdomain).com", key: "key-\(subdomain)"),
            accountId: subdomain, http: http, limiter: limiter
        )
    }

    @Test("customers: create, find by external id and by phone, set name")
    func customers() async throws {
        let sandbox = try await SandboxFixture { $0.autoCreateAccounts = true }
        let http = HTTPClient()
        let gorgias = client(sandbox, http)
        #expect(try await gorgias.customer(externalId: "sms:+15551234567") == nil)
        let created = try await gorgias.createCustomer(
            phone: "+15551234567", name: nil, email: nil, externalId: "sms:+15551234567")
        #expect(created.channels?.first?.address == "+15551234567")
        #expect(try await gorgias.customer(externalId: "sms:+15551234567")?.id == created.id)
        #expect(try await gorgias.customer(phone: "+15551234567")?.id == created.id)
        #expect(try await gorgias.customer(phone: "+15559999999") == nil)
        let named = try await gorgias.setCustomerName(id: created.id, name: "Jane Doe")
        #expect(named.name == "Jane Doe")
        #expect(try await gorgias.customer(id: created.id).channels?.count == 1)
        await http.shutdown()
        await sandbox.stop()
    }

    @Test("tickets and messages: create with an imported first message, thread, note, list, get, close")
    func ticketsAndMessages() async throws {
        let sandbox = try await SandboxFixture { $0.autoCreateAccounts = true }
        let http = HTTPClient()
        let gorgias = client(sandbox, http)
        let customer = try await gorgias.createCustomer(
            phone: "+15551234567", name: "Jane", email: nil, externalId: "sms:+15551234567")
        let first = GorgiasNewMessage(
            channel: "sms", via: "api", fromAgent: false, sender: GorgiasPersonRef(id: customer.id),
            source: GorgiasMessageSource(
                type: "sms", from: GorgiasAddress(address: "+15551234567"),
                to: [GorgiasAddress(address: "+15557654321")]),
            bodyText: "Where is my order?", externalId: "SM1", sentDatetime: "2026-06-01T12:00:00Z"
        )
        let ticket = try await gorgias.createTicket(
            GorgiasNewTicket(
                channel: "sms", via: "api", fromAgent: false, status: "open", subject: "SMS from +15551234567",
                externalId: "conv:c1:1",
                customer: GorgiasPersonRef(id: customer.id), tags: [["name": "sms"]], messages: [first]
            ))
        #expect(ticket.messages?.first?.externalId == "SM1")
        #expect(ticket.messages?.first?.fromAgent == false)
        #expect(try await gorgias.ticket(externalId: "conv:c1:1")?.id == ticket.id)
        var second = first
        second.bodyText = "Hello?"
        second.externalId = "SM2"
        let threaded = try await gorgias.createMessage(ticketId: ticket.id, second)
        let note = try await gorgias.createMessage(
            ticketId: ticket.id,
            GorgiasNewMessage(
                channel: "internal-note", via: "api", fromAgent: true, public: false, sender: nil,
                bodyText: "Customer opted out by text."
            ))
        #expect(try await gorgias.message(ticketId: ticket.id, id: note.id).isInternalNote)
        #expect(try await gorgias.message(ticketId: ticket.id, id: threaded.id).bodyText == "Hello?")
        let all = try await gorgias.messages(ticketId: ticket.id)
        #expect(all.map(\.externalId) == ["SM1", "SM2", nil])
        #expect(try await gorgias.tickets(customerId: customer.id).map(\.id) == [ticket.id])
        #expect(try await gorgias.setTicketStatus(id: ticket.id, .closed).status == "closed")
        #expect(try await gorgias.ticket(id: ticket.id).status == "closed")
        await #expect {
            try await gorgias.ticket(id: 424242)
        } throws: { error in
            (error as? GorgiasError)?.isGone == true && ProcessingFailure.classify(error).kind == .permanent
        }
        await http.shutdown()
        await sandbox.stop()
    }

    @Test("cursor pagination follows next_cursor to the end")
    func pagination() async throws {
        let sandbox = try await SandboxFixture { $0.autoCreateAccounts = true }
        let http = HTTPClient()
        let gorgias = client(sandbox, http)
        let customer = try await gorgias.createCustomer(
            phone: "+15551234567", name: nil, email: nil, externalId: "sms:+15551234567")
        // One request creates the ticket with 250 messages (the API takes up to 500); listing them takes three pages.
        let ticket = try await gorgias.createTicket(
            GorgiasNewTicket(
                channel: "sms", via: "api", fromAgent: false, status: "open", subject: "s", externalId: nil,
                customer: GorgiasPersonRef(id: customer.id),
                tags: nil,
                messages: (0..<250).map {
                    GorgiasNewMessage(
                        channel: "sms", via: "api", fromAgent: false, sender: GorgiasPersonRef(id: customer.id),
                        bodyText: "\($0)")
                }
            ))
        let messages = try await gorgias.messages(ticketId: ticket.id)
        #expect(messages.map(\.bodyText) == (0..<250).map { "\($0)" })
        await http.shutdown()
        await sandbox.stop()
    }

    @Test("HTTP integrations are registered with the reference's shape (hyphenated triggers) and removed")
    func integrations() async throws {
        let sandbox = try await SandboxFixture { $0.autoCreateAccounts = true }
        let http = HTTPClient()
        let gorgias = client(sandbox, http)
        let integration = try await gorgias.createIntegration(
            name: "Switchboard", url: "http://127.0.0.1:1/hook", secretHeader: ("X-Switchboard-Secret", "s3cret"))
        // Read back through the API, as the account itself sees it (the sandbox's own views mask the secret).
        let fetched = try await http.execute(
            APIRequest(
                url: sandbox.gorgiasBaseURL("acme") + "/api/integrations/\(integration.id)",
                headers: [("Authorization", "Basic " + Data("ops@acme.com:key-acme".utf8).base64EncodedString())]
            ))
        let http0 = try JSONParser.parse(fetched.body)["http"]
        #expect(http0?["triggers"]?["ticket-message-created"] == .bool(true))
        #expect(http0?["triggers"]?["ticket-updated"] == .bool(true))
        #expect(http0?["triggers"]?["ticket_message_created"] == nil)
        #expect(http0?["headers"]?["X-Switchboard-Secret"] == "s3cret")
        #expect(http0?["form"]?["message_id"] == "{{message.id}}")
        try await gorgias.deleteIntegration(id: integration.id)
        try await gorgias.deleteIntegration(id: integration.id)  // already gone counts as removed
        #expect(try await sandbox.json("/sandbox/gorgias/acme")["integrations"]?.arrayValue?.isEmpty == true)
        await http.shutdown()
        await sandbox.stop()
    }

    @Test("accounts are isolated: another account's credentials are refused")
    func isolation() async throws {
        let sandbox = try await SandboxFixture { $0.autoCreateAccounts = true }
        let http = HTTPClient()
        _ = try await client(sandbox, http, subdomain: "acme").createCustomer(
            phone: "+15551234567", name: "A", email: nil, externalId: "sms:+15551234567")
        _ = try await client(sandbox, http, subdomain: "globex").customer(externalId: "x")
        #expect(try await client(sandbox, http, subdomain: "globex").customer(externalId: "sms:+15551234567") == nil)
        let intruder = GorgiasClient(
            baseURL: sandbox.gorgiasBaseURL("acme"), credentials: .apiKey(email: "ops@globex.com", key: "key-globex"),
            accountId: "acme", http: http, limiter: UnlimitedRateLimiter()
        )
        await #expect {
            try await intruder.customer(externalId: "sms:+15551234567")
        } throws: { error in
            (error as? GorgiasError)?.status == 401
                && ProcessingFailure.classify(error).errorClass == "gorgias.unauthorized"
        }
        await http.shutdown()
        await sandbox.stop()
    }

    @Test(
        "5xx, 429, timeouts and dropped connections are transient; a dropped create is not duplicated thanks to external_id"
    )
    func failures() async throws {
        let sandbox = try await SandboxFixture { $0.autoCreateAccounts = true }
        var configuration = HTTPClient.Configuration()
        // Below the 2 s stall below, with room for the calls that must succeed on a loaded CI machine (500 ms once
        // timed out a plain lookup there).
        configuration.timeout = .milliseconds(1500)
        let http = HTTPClient(configuration: configuration)
        let gorgias = client(sandbox, http)
        _ = try await gorgias.customer(externalId: "warm-up")

        try await sandbox.post("/sandbox/faults", ["failRate": 1.0])
        await #expect { try await gorgias.customer(externalId: "x") } throws: { error in
            let failure = ProcessingFailure.classify(error)
            return failure.kind == .transient && failure.dependency == .gorgias
                && failure.errorClass == "gorgias.http_503"
        }
        try await sandbox.post("/sandbox/faults", ["burst429": 1])
        await #expect { try await gorgias.customer(externalId: "x") } throws: { error in
            let failure = ProcessingFailure.classify(error)
            return failure.kind == .throttled && failure.retryAfter == .seconds(1)
        }
        try await sandbox.post("/sandbox/faults", ["stallEvery": 1, "stallMs": 2000])
        await #expect { try await gorgias.customer(externalId: "x") } throws: { error in
            (error as? HTTPError)?.kind == .timeout && ProcessingFailure.classify(error).kind == .transient
        }
        try await sandbox.post("/sandbox/faults", ["dropRate": 1.0])
        await #expect {
            _ = try await gorgias.createCustomer(
                phone: "+15551230000", name: nil, email: nil, externalId: "sms:+15551230000")
        } throws: { error in
            (error as? HTTPError)?.kind == .connection && ProcessingFailure.classify(error).kind == .transient
        }
        try await sandbox.post("/sandbox/faults", [:])
        // The retry looks the customer up by external_id first: the dropped create had taken effect.
        let found = try await gorgias.customer(externalId: "sms:+15551230000")
        #expect(found != nil)
        let customers = try await sandbox.json("/sandbox/gorgias/acme")["customers"]?.arrayValue ?? []
        #expect(customers.filter { $0["external_id"]?.stringValue == "sms:+15551230000" }.count == 1)
        await http.shutdown()
        await sandbox.stop()
    }

    @Test(
        "under a 60 s burst from many tasks and two limiter connections, no request exceeds Gorgias' budget",
        .timeLimit(.minutes(2)))
    func budget() async throws {
        let sandbox = try await SandboxFixture { $0.autoCreateAccounts = true }
        let http = HTTPClient()
        let path = NSTemporaryDirectory() + "budget-\(UUID().uuidString.prefix(6)).sqlite"
        try await Store.withStore(.sqlite(path: path), logger: Logger(label: "a")) { first in
            try await Store.withStore(.sqlite(path: path), logger: Logger(label: "b")) { second in
                let clients = [first, second].map { store in
                    client(sandbox, http, limiter: StoreRateLimiter(store: store))
                }
                let started = ContinuousClock.now
                let refused = LockedCounter()
                let made = LockedCounter()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<16 {
                        let gorgias = clients[worker % 2]
                        group.addTask {
                            while ContinuousClock.now - started < .seconds(60) {
                                do {
                                    _ = try await gorgias.customer(externalId: "burst")
                                    made.increment()
                                } catch let failure as ProcessingFailure where failure.kind == .throttled {
                                    try await Task.sleep(for: failure.retryAfter ?? .milliseconds(100))
                                } catch let error as GorgiasError where error.status == 429 {
                                    refused.increment()
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let elapsed = (ContinuousClock.now - started).seconds
                #expect(refused.count == 0, "Gorgias refused \(refused.count) requests with 429")
                #expect(Double(made.count) >= 40 + 2 * 55, "the budget should be used, made \(made.count)")
                #expect(Double(made.count) <= 40 + 2 * elapsed + 1, "made \(made.count) in \(elapsed) s")
            }
        }
        await http.shutdown()
        await sandbox.stop()
    }
}
