import Foundation
import Testing
import ProviderContracts
@testable import Sandbox
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardJSON
import TestSupport

/// Where the clients' old reading of Gorgias' documents differed from the current reference, each checked against
/// a sandbox as strict as the reference: hyphenated trigger keys, 301 on merged tickets and customers, a file's
/// size as a string, granular OAuth scopes.
@Suite("Gorgias as documented", .serialized, .timeLimit(.minutes(2)))
struct GorgiasMismatchTests {
    static let basic = "Basic " + Data("ops@acme.example:key-acme".utf8).base64EncodedString()

    func client(_ sandbox: SandboxFixture, _ http: HTTPClient, merges: (@Sendable (GorgiasMerge) async -> Void)? = nil)
        -> GorgiasClient
    {
        GorgiasClient(
            baseURL: sandbox.gorgiasBaseURL("acme"), credentials: .apiKey(email: "ops@acme.example", key: "key-acme"),
            accountId: "acme", http: http, limiter: UnlimitedRateLimiter(), merges: merges)
    }

    func fixture() async throws -> SandboxFixture {
        let sandbox = try await SandboxFixture()
        try await sandbox.post(
            "/sandbox/gorgias/accounts", ["subdomain": "acme", "email": "ops@acme.example", "apiKey": "key-acme"])
        return sandbox
    }

    @Test(
        "the integration is registered with the reference's hyphenated triggers, read back; the v1.1 underscore keys are refused"
    )
    func hyphenatedTriggers() async throws {
        let sandbox = try await fixture()
        let http = HTTPClient()
        let created = try await client(sandbox, http).createIntegration(
            name: "Switchboard", url: "https://in.example/gorgias/events/acme", secretHeader: ("X-Secret", "s"))
        #expect(created.triggers?["ticket-message-created"] == true && created.triggers?["ticket-updated"] == true)
        #expect(created.triggers?.keys.contains { $0.contains("_") } == false)
        let old = try await http.execute(
            APIRequest(
                method: "POST", url: sandbox.gorgiasBaseURL("acme") + "/api/integrations",
                headers: [("Authorization", Self.basic), ("Content-Type", "application/json")],
                body: ([
                    "name": "old", "type": "http",
                    "http": [
                        "url": "https://x.example", "method": "POST", "triggers": ["ticket_message_created": true],
                    ],
                ] as JSONValue).canonicalBytes()))
        #expect(old.status == 400)
        // The contract flags the old key too, as it would a client that sent it.
        #expect(sandbox.takeContractDrifts().contains { $0.problem.contains("ticket_message_created") })
        await http.shutdown()
        await sandbox.stop()
    }

    @Test("an integration Gorgias keeps without its triggers is refused at once and removed, not left silent")
    func triggersNotKept() async throws {
        let sandbox = try await fixture()
        try await sandbox.post("/sandbox/faults", ["dropIntegrationTriggers": true])
        let http = HTTPClient()
        await #expect {
            _ = try await client(sandbox, http).createIntegration(
                name: "Switchboard", url: "https://in.example/e", secretHeader: ("X-Secret", "s"))
        } throws: { error in
            (error as? IntegrationRefused)?.reason.contains("ticket-message-created") == true
        }
        #expect(try await sandbox.json("/sandbox/gorgias/acme")["integrations"]?.arrayValue?.isEmpty == true)
        await http.shutdown()
        await sandbox.stop()
    }

    @Test("calls on a merged ticket answer 301 to the survivor: the same call is made there, and the merge reported")
    func mergedTicket() async throws {
        let sandbox = try await fixture()
        let http = HTTPClient()
        let merges = LockedBox<[GorgiasMerge]>([])
        let gorgias = client(sandbox, http) { merge in merges.withLock { $0.append(merge) } }
        let customer = try await gorgias.createCustomer(
            phone: "+15551230000", name: nil, email: nil, externalId: "sms:+15551230000")
        func ticket(_ text: String) async throws -> GorgiasTicket {
            try await gorgias.createTicket(
                GorgiasNewTicket(
                    channel: "sms", via: "api", fromAgent: false, status: "open", subject: text, externalId: nil,
                    customer: GorgiasPersonRef(id: customer.id), tags: nil,
                    messages: [
                        GorgiasNewMessage(
                            channel: "sms", via: "api", fromAgent: false, sender: GorgiasPersonRef(id: customer.id),
                            bodyText: text, sentDatetime: "2026-12-01T10:00:00Z")
                    ]))
        }
        let gone = try await ticket("first")
        let kept = try await ticket("second")
        try await sandbox.post("/sandbox/gorgias/acme/tickets/\(gone.id)/merge", ["into": .int(kept.id)])
        let note = try await gorgias.createMessage(
            ticketId: gone.id,
            GorgiasNewMessage(
                channel: "internal-note", via: "api", fromAgent: true, public: false, sender: nil, bodyText: "n"))
        #expect(note.ticketId == kept.id)
        #expect(try await gorgias.ticket(id: gone.id).id == kept.id)
        #expect(merges.withLock { $0 }.contains(.ticket(from: gone.id, to: kept.id)))
        // Without following, the answer is the 301 itself (what dead-lettered every call on a merged ticket before).
        let raw = try await http.execute(
            APIRequest(
                url: sandbox.gorgiasBaseURL("acme") + "/api/tickets/\(gone.id)",
                headers: [("Authorization", Self.basic)]))
        #expect(raw.status == 301 && raw.header("Location")?.hasSuffix("/api/tickets/\(kept.id)") == true)
        await http.shutdown()
        await sandbox.stop()
    }

    @Test("a merged customer answers 301 with an empty body: reads are made on the survivor")
    func mergedCustomer() async throws {
        let sandbox = try await fixture()
        let http = HTTPClient()
        let merges = LockedBox<[GorgiasMerge]>([])
        let gorgias = client(sandbox, http) { merge in merges.withLock { $0.append(merge) } }
        let source = try await gorgias.createCustomer(phone: "+15551230001", name: nil, email: nil, externalId: "a")
        let target = try await gorgias.createCustomer(phone: "+15551230002", name: "Kept", email: nil, externalId: "b")
        try await sandbox.post("/sandbox/gorgias/acme/customers/\(source.id)/merge", ["into": .int(target.id)])
        let read = try await gorgias.customer(id: source.id)
        #expect(read.id == target.id && read.hasPhone("+15551230001"))
        #expect(merges.withLock { $0 } == [.customer(from: source.id, to: target.id)])
        let raw = try await http.execute(
            APIRequest(
                url: sandbox.gorgiasBaseURL("acme") + "/api/customers/\(source.id)",
                headers: [("Authorization", Self.basic)]))
        #expect(raw.status == 301 && raw.body.isEmpty)
        await http.shutdown()
        await sandbox.stop()
    }

    @Test("an upload's answer gives size as a string, as the reference's File example does, and the client reads it")
    func uploadSizeAsString() async throws {
        let sandbox = try await fixture()
        let http = HTTPClient()
        let file = try await client(sandbox, http).upload(
            filename: "a.png", contentType: "image/png", bytes: Array(repeating: 7, count: 300))
        #expect(file.size == 300)
        await http.shutdown()
        await sandbox.stop()
    }

    @Test("consent refuses the deprecated write:all; a token lacking a call's scope is refused 403")
    func granularScopes() async throws {
        let sandbox = try await fixture()
        let http = HTTPClient()
        func authorize(_ scope: String) async throws -> String {
            let query = FormEncoding.encode([
                ("response_type", "code"), ("client_id", "switchboard-sandbox"), ("scope", scope),
                ("redirect_uri", "https://in.example/oauth/callback"), ("state", "s"),
            ])
            let answer = try await http.execute(
                APIRequest(url: sandbox.gorgiasBaseURL("shop") + "/oauth/authorize?" + query))
            return answer.header("Location") ?? ""
        }
        #expect(try await authorize("write:all offline").contains("error=invalid_scope"))
        let granted = try await authorize("offline tickets:read")
        let code = try #require(FormEncoding.fields(String(granted.split(separator: "?").last ?? ""))["code"])
        let token = try await http.execute(
            APIRequest(
                method: "POST", url: sandbox.gorgiasBaseURL("shop") + "/oauth/token",
                headers: [
                    (
                        "Authorization",
                        "Basic " + Data("switchboard-sandbox:sandbox-oauth-secret".utf8).base64EncodedString()
                    ),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                body: Array(
                    FormEncoding.encode([
                        ("grant_type", "authorization_code"), ("code", code),
                        ("redirect_uri", "https://in.example/oauth/callback"),
                    ]).utf8)))
        let access = try #require(try JSONParser.parse(token.body)["access_token"]?.stringValue)
        func call(_ path: String) async throws -> Int {
            try await http.execute(
                APIRequest(url: sandbox.gorgiasBaseURL("shop") + path, headers: [("Authorization", "Bearer " + access)])
            ).status
        }
        #expect(try await call("/api/tickets") == 200)
        #expect(try await call("/api/customers") == 403)
        await http.shutdown()
        await sandbox.stop()
    }

    @Test("the sandbox's scope for each call is the one the contract names")
    func scopesAgree() throws {
        let contract = try ProviderContracts.repository().gorgias
        for (method, path) in [
            ("GET", "/api/customers"), ("POST", "/api/customers"), ("PUT", "/api/customers/1"),
            ("GET", "/api/tickets/1"),
            ("POST", "/api/tickets/1/messages"), ("GET", "/api/messages"), ("POST", "/api/integrations"),
            ("DELETE", "/api/integrations/1"), ("GET", "/api/account"), ("POST", "/api/upload"),
        ] {
            let parts = path.split(separator: "/").dropFirst().map(String.init)
            #expect(
                GorgiasScopes.required(method, parts) == contract.scope(method: method, path: path),
                "\(method) \(path)")
        }
    }
}
