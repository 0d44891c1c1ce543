import Foundation
import LocalFleet
import SwitchboardBase
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardStore

extension E2EFleet {
    /// A customer with an SMS ticket in the sandbox and its conversation in the store, as if they had texted in.
    public struct Seeded: Sendable {
        public var ticketId: Int64
        public var conversationId: String
        public var phone: String
    }

    /// Creates the customer and ticket in Gorgias and the conversation (and optionally consent) in the store.
    public func seedConversation(_ test: TestAccount, phone: String, consent: ConsentState?) async throws -> Seeded {
        let http = HTTPClient()
        defer { Task { await http.shutdown() } }
        let credentials: GorgiasCredentials =
            test.oauth ? .oauth(token: test.gorgiasKey) : .apiKey(email: "ops@\(test.id).example", key: test.gorgiasKey)
        let gorgias = GorgiasClient(
            baseURL: sandbox.gorgiasBaseURL(test.id), credentials: credentials, accountId: test.id, http: http,
            limiter: UnlimitedRateLimiter())
        let customer = try await Self.patiently {
            try await gorgias.createCustomer(phone: phone, name: nil, email: nil, externalId: "sms:\(phone)")
        }
        let ticket = try await Self.patiently {
            try await gorgias.createTicket(
                GorgiasNewTicket(
                    channel: "sms", via: "api", fromAgent: false, status: "open", subject: "SMS from \(phone)",
                    externalId: nil,
                    customer: GorgiasPersonRef(id: customer.id), tags: nil,
                    messages: [
                        GorgiasNewMessage(
                            channel: "sms", via: "api", fromAgent: false, sender: GorgiasPersonRef(id: customer.id),
                            bodyText: "Hi")
                    ]
                ))
        }
        let conversationId = try await withStore { store in
            let conversation = try await store.openConversation(accountId: test.id, phone: phone).conversation
            try await store.setConversationCustomer(conversationId: conversation.id, customerId: customer.id)
            try await store.attachTicket(
                conversationId: conversation.id, accountId: test.id, ticketId: ticket.id, openedAt: Date())
            if let consent {
                _ = try await store.applyConsent(
                    ConsentChange(
                        accountId: test.id, phone: phone, state: consent, at: Date().addingTimeInterval(-3600),
                        source: "test"))
            }
            return conversation.id
        }
        return Seeded(ticketId: ticket.id, conversationId: conversationId, phone: phone)
    }

    /// Retries through the sandbox's 429s (seeding is not what the tests measure).
    static func patiently<T>(_ body: () async throws -> T) async throws -> T {
        while true {
            do {
                return try await body()
            } catch let error as GorgiasError where error.status == 429 {
                try await Task.sleep(for: error.retryAfter ?? .seconds(1))
            } catch let failure as ProcessingFailure where failure.kind == .throttled {
                try await Task.sleep(for: failure.retryAfter ?? .seconds(1))
            }
        }
    }

    /// An agent replies in the helpdesk (the sandbox fires its integrations); returns the message id.
    @discardableResult
    public func agentReply(
        _ test: TestAccount, ticketId: Int64, body: String, html: String? = nil, attachments: [JSONValue] = [],
        via: String? = nil
    ) async throws -> Int64 {
        var request: [String: JSONValue] = ["body_text": .string(body), "attachments": .array(attachments)]
        if let html { request["body_html"] = .string(html) }
        if let via { request["via"] = .string(via) }
        let message = try await sandbox.post("/sandbox/gorgias/\(test.id)/tickets/\(ticketId)/reply", .object(request))
        guard let id = message["id"]?.intValue else {
            throw FleetError(description: "agent reply failed: \(message.serialized())")
        }
        return id
    }

    /// The `helpdesk.message.created` event the ingress would produce for a message.
    public func replyEvent(
        _ test: TestAccount, ticketId: Int64, messageId: Int64, fromAgent: Bool? = true, channel: String? = "sms",
        isPublic: Bool? = true
    ) -> OutgoingRecord {
        HelpdeskMessage(
            accountId: test.id, ticketId: ticketId, messageId: messageId, createdAt: Date(), fromAgent: fromAgent,
            channel: channel,
            isPublic: isPublic, via: "helpdesk"
        ).record(id: "gorgias:\(test.id):message:\(messageId)", source: "test")
    }

    /// Every message of a ticket in the sandbox.
    public func ticketMessages(_ test: TestAccount, _ ticketId: Int64) async throws -> [JSONValue] {
        let tickets = try await gorgias(test.id)["tickets"]?.arrayValue ?? []
        return tickets.first { $0["id"]?.intValue == ticketId }?["messages"]?.arrayValue ?? []
    }

    /// Internal notes of a ticket.
    public func notes(_ test: TestAccount, _ ticketId: Int64) async throws -> [String] {
        try await ticketMessages(test, ticketId).filter { $0["channel"] == "internal-note" }.compactMap {
            $0["body_text"]?.stringValue
        }
    }

    /// SMS Switchboard sent (outbound) to `phone`, oldest first.
    public func sent(_ test: TestAccount, to phone: String) async throws -> [JSONValue] {
        try await sms(test).filter { $0["direction"] == "outbound-api" && $0["to"]?.stringValue == phone }
    }
}
