import Foundation
import SwitchboardBase
import SwitchboardDomain
import SwitchboardHTTP
import SwitchboardJSON

/// The Gorgias REST API for one account (contracts/gorgias/), on ``HTTPClient``.
///
/// Every call first takes a token from the account's shared budget (all workers, all processes), reads
/// `X-Gorgias-Account-Api-Call-Limit` to slow down before Gorgias refuses, and turns a 429's `Retry-After` into a
/// blocked budget plus a `throttled` failure the runtime waits out or defers.
public struct GorgiasClient: Sendable {
    public let baseURL: String
    let credentials: GorgiasCredentials
    let http: HTTPClient
    let budget: RateBudget
    let limiter: any RateLimiter
    /// Longest an event waits in place for a rate-limit token before it is deferred.
    let maximumRateWait: Duration
    /// Told when a call was redirected from a merged ticket or customer to the one that remains.
    let merges: (@Sendable (GorgiasMerge) async -> Void)?

    public init(
        baseURL: String,
        credentials: GorgiasCredentials,
        accountId: String,
        http: HTTPClient,
        limiter: any RateLimiter,
        maximumRateWait: Duration = .seconds(5),
        merges: (@Sendable (GorgiasMerge) async -> Void)? = nil
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.credentials = credentials
        self.http = http
        self.budget = RateBudget.gorgias(accountId: accountId, oauth: credentials.isOAuth)
        self.limiter = limiter
        self.maximumRateWait = maximumRateWait
        self.merges = merges
    }

    // MARK: Account

    /// Proves the credentials with one cheap read (`GET /api/account`); throws ``GorgiasError`` when refused.
    public func checkCredentials() async throws {
        _ = try await raw("GET", "/api/account", query: [], body: nil, operation: "read account")
    }

    // MARK: Customers

    // Every lookup by filter checks what came back: the `channel_address` and ticket `external_id` filters are known
    // from third-party sources only (contracts/gorgias/operations.json marks them), and a filter Gorgias ignored or loosened must never
    // put a text on another customer's ticket. A mismatch is "not found".

    /// The customer whose `external_id` is `externalId` (e.g. `sms:+15551234567`).
    public func customer(externalId: String) async throws -> GorgiasCustomer? {
        try await first(
            "/api/customers", [("external_id", externalId)], GorgiasCustomer.self, operation: "find customer"
        ) {
            $0.externalId == externalId
        }
    }

    /// The customer with a phone channel at `phone` (compared digit by digit: Gorgias may store `+1 555-…`).
    public func customer(phone: String) async throws -> GorgiasCustomer? {
        guard case .found(let customer) = try await lookUpCustomer(phone: phone) else { return nil }
        return customer
    }

    /// What a lookup by phone channel found.
    public enum PhoneLookup: Sendable {
        case found(GorgiasCustomer)
        /// The filtered list came back empty: no customer has this phone.
        case nobody
        /// The list named only other customers: Gorgias may have ignored the filter (it is known from third-party
        /// code only), so nothing is certain.
        case unsure
    }

    /// Looks for the customer with a phone channel at `phone`, telling an empty answer from one that named others.
    public func lookUpCustomer(phone: String) async throws -> PhoneLookup {
        var answeredAnything = false
        let found = try await first(
            "/api/customers", [("channel_type", "phone"), ("channel_address", phone)], GorgiasCustomer.self,
            operation: "find customer by phone"
        ) { customer in
            answeredAnything = true
            return customer.hasPhone(phone)
        }
        if let found { return .found(found) }
        return answeredAnything ? .unsure : .nobody
    }

    /// The customer with this email, if any.
    public func customer(email: String) async throws -> GorgiasCustomer? {
        try await first("/api/customers", [("email", email)], GorgiasCustomer.self, operation: "find customer by email")
        {
            $0.email?.lowercased() == email.lowercased()
        }
    }

    /// Replaces a customer's channels (Gorgias replaces the whole list: send every channel to keep).
    public func setCustomerChannels(id: Int64, channels: [GorgiasCustomerChannel]) async throws -> GorgiasCustomer {
        let list: [JSONValue] = channels.map {
            ["type": .string($0.type), "address": .string($0.address), "preferred": .bool($0.preferred ?? false)]
        }
        return try await send(
            "PUT", "/api/customers/\(id)", json: ["channels": .array(list)], operation: "set customer channels")
    }

    public func customer(id: Int64) async throws -> GorgiasCustomer {
        try await send("GET", "/api/customers/\(id)", operation: "get customer")
    }

    /// Creates a customer with a phone channel and our `external_id`.
    public func createCustomer(phone: String, name: String?, email: String?, externalId: String) async throws
        -> GorgiasCustomer
    {
        var body: JSONValue = [
            "external_id": .string(externalId),
            "channels": [["type": "phone", "address": .string(phone), "preferred": true]],
        ]
        if let name { body = body.setting("name", .string(name)) }
        if let email { body = body.setting("email", .string(email)) }
        return try await send("POST", "/api/customers", json: body, operation: "create customer")
    }

    /// Sets a customer's name (a partial update: channels are left alone).
    public func setCustomerName(id: Int64, name: String) async throws -> GorgiasCustomer {
        try await send("PUT", "/api/customers/\(id)", json: ["name": .string(name)], operation: "set customer name")
    }

    // MARK: Tickets

    public func createTicket(_ ticket: GorgiasNewTicket) async throws -> GorgiasTicket {
        try await send("POST", "/api/tickets", body: try JSONEncoder().encode(ticket), operation: "create ticket")
    }

    public func ticket(id: Int64) async throws -> GorgiasTicket {
        try await send("GET", "/api/tickets/\(id)", operation: "get ticket")
    }

    /// The ticket whose `external_id` is `externalId`, if any.
    public func ticket(externalId: String) async throws -> GorgiasTicket? {
        try await first("/api/tickets", [("external_id", externalId)], GorgiasTicket.self, operation: "find ticket") {
            $0.externalId == externalId
        }
    }

    /// A customer's tickets, most recently updated first (lists omit messages; no status filter exists).
    public func tickets(customerId: Int64, limit: Int = 30) async throws -> [GorgiasTicket] {
        try await list(
            "/api/tickets",
            [("customer_id", String(customerId)), ("order_by", "updated_datetime:desc"), ("limit", String(limit))],
            GorgiasTicket.self, operation: "list tickets", maximumPages: 1
        )
    }

    /// Sets a ticket's status (`open`/`closed`).
    @discardableResult
    public func setTicketStatus(id: Int64, _ status: TicketStatus) async throws -> GorgiasTicket {
        try await send(
            "PUT", "/api/tickets/\(id)", json: ["status": .string(status.rawValue)], operation: "update ticket status")
    }

    // MARK: Messages

    /// Adds a message to a ticket; returns the id Gorgias gave it. With `sent_datetime` set it is imported as already
    /// sent; an `internal-note` channel makes it a note agents see and customers never receive.
    public func createMessage(ticketId: Int64, _ message: GorgiasNewMessage) async throws -> GorgiasCreatedMessage {
        try await send(
            "POST", "/api/tickets/\(ticketId)/messages", body: try JSONEncoder().encode(message),
            operation: "create message")
    }

    public func message(ticketId: Int64, id: Int64) async throws -> GorgiasMessage {
        try await send("GET", "/api/tickets/\(ticketId)/messages/\(id)", operation: "get message")
    }

    /// Every message of a ticket (cursor-paginated `GET /api/messages?ticket_id=`).
    public func messages(ticketId: Int64) async throws -> [GorgiasMessage] {
        try await list(
            "/api/messages", [("ticket_id", String(ticketId)), ("limit", "100")], GorgiasMessage.self,
            operation: "list messages")
    }

    // MARK: HTTP integrations

    /// The triggers Switchboard registers, in the current reference's hyphenated spelling
    /// (contracts/gorgias/schemas/integration-triggers.schema.json): a message created (an agent's reply), a ticket
    /// updated (status mirroring) and a snooze ending.
    public static let integrationTriggers: [String: Bool] = [
        "ticket-created": false, "ticket-updated": true, "ticket-message-created": true,
        "ticket-self-unsnoozed": true,
    ]

    /// Registers the HTTP integration that sends ticket and message events to `url` (the Switchboard ingress), and
    /// checks what Gorgias kept: an integration whose triggers are not the ones asked for would never send an agent's
    /// reply, with no error anywhere, so it is removed again and ``IntegrationRefused`` thrown.
    public func createIntegration(name: String, url: String, secretHeader: (String, String)) async throws
        -> GorgiasIntegration
    {
        // Scalars only; `event.type` is a hint, since only third-party material documents an `event` variable
        // (the ingress infers the event from the ticket and message fields when it renders empty).
        let form: JSONValue = [
            "event_type": "{{event.type}}", "event_id": "{{event.id}}", "ticket_id": "{{ticket.id}}",
            "ticket_status": "{{ticket.status}}", "ticket_channel": "{{ticket.channel}}",
            "ticket_external_id": "{{ticket.external_id}}",
            "customer_id": "{{ticket.customer.id}}", "message_id": "{{message.id}}",
            "message_channel": "{{message.channel}}",
            "message_via": "{{message.via}}", "message_public": "{{message.public}}",
            "from_agent": "{{message.from_agent}}",
            "message_external_id": "{{message.external_id}}", "sender_id": "{{message.sender.id}}",
            "message_created": "{{message.created_datetime}}", "updated": "{{ticket.updated_datetime}}",
            "snooze": "{{ticket.snooze_datetime}}",
        ]
        let body: JSONValue = [
            "name": .string(name), "type": "http",
            "http": [
                "url": .string(url), "method": "POST", "request_content_type": "application/json",
                "response_content_type": "application/json",
                "headers": .object([secretHeader.0: .string(secretHeader.1)]),
                "form": form,
                "triggers": .object(Self.integrationTriggers.mapValues { .bool($0) }),
            ],
        ]
        let created: GorgiasIntegration
        do {
            created = try await send("POST", "/api/integrations", json: body, operation: "create integration")
        } catch let error as GorgiasError where error.status == 400 {
            throw IntegrationRefused(reason: "Gorgias refused the integration: \(error.message)")
        }
        // The answer should carry the integration as kept; if it does not show the triggers, read it back.
        var kept = created.triggers
        if kept == nil { kept = try await integration(id: created.id)?.triggers }
        let missing = Self.integrationTriggers.filter { $0.value && kept?[$0.key] != true }.keys.sorted()
        guard missing.isEmpty else {
            try? await deleteIntegration(id: created.id)
            throw IntegrationRefused(
                reason:
                    "Gorgias did not keep the trigger\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))"
            )
        }
        return created
    }

    /// The integration `id`, or nil when Gorgias no longer has it (removed by an admin).
    public func integration(id: Int64) async throws -> GorgiasIntegration? {
        do {
            return try await send("GET", "/api/integrations/\(id)", operation: "read integration")
        } catch let error as GorgiasError where error.isGone {
            return nil
        }
    }

    /// Removes an integration; one that is already gone counts as removed.
    public func deleteIntegration(id: Int64) async throws {
        do {
            _ = try await raw(
                "DELETE", "/api/integrations/\(id)", query: [], body: nil, operation: "delete integration")
        } catch let error as GorgiasError where error.isGone {
            return
        }
    }

    // MARK: Budget

    /// Runs `body` with `calls` tokens of the account's budget taken up front (all or none, waiting at most as long
    /// as a single call would), which the Gorgias calls inside spend first; see ``RateReservation``. Throws the
    /// usual `throttled` failure, having spent nothing, when the budget cannot give them in time.
    ///
    /// One call is reserved too: a text throttled after its import was journaled would, when it runs again, spend a
    /// lookup on finding out whether the first try got through.
    public func reserving<T: Sendable>(calls: Int, _ body: () async throws -> T) async throws -> T {
        try await limiter.acquire(budget, count: calls, maximumWait: maximumRateWait)
        let reservation = RateReservation(bucket: budget.bucket, tokens: calls)
        defer {
            // Tokens the body did not need go back, best-effort (a lost refund only slows this account a little).
            let unspent = reservation.unspent
            if unspent > 0 { Task { [limiter, budget] in try? await limiter.refund(budget, count: unspent) } }
        }
        return try await RateReservation.$current.withValue(reservation) { try await body() }
    }

    // MARK: Files

    /// Uploads a file to the account's Gorgias file storage (`POST /api/upload?type=attachment`, known from
    /// third-party code only), for a message attachment agents can open. The answer is checked: an upload that names
    /// no http(s) URL is an unexpected response.
    public func upload(filename: String, contentType: String, bytes: [UInt8]) async throws -> GorgiasAttachment {
        let form = MultipartForm(filename: filename, contentType: contentType, bytes: bytes)
        let response = try await raw(
            "POST", "/api/upload", query: [("type", "attachment")], body: form.body, contentType: form.contentType,
            operation: "upload file"
        )
        let uploaded = (try? JSONDecoder().decode([GorgiasAttachment].self, from: Data(response.body)))?.first
        guard let uploaded, let url = URL(string: uploaded.url), ["http", "https"].contains(url.scheme ?? "") else {
            throw ProcessingFailure.transient(
                "gorgias.unexpected_upload", "Gorgias' upload answer named no file URL", dependency: .gorgias)
        }
        return GorgiasAttachment(
            url: uploaded.url, name: uploaded.name ?? filename, contentType: uploaded.contentType ?? contentType,
            size: uploaded.size ?? bytes.count)
    }

    // MARK: Transport

    private func send<T: Decodable>(
        _ method: String, _ path: String, query: [(String, String)] = [], json: JSONValue, operation: String
    ) async throws -> T {
        try await send(method, path, query: query, body: json.canonicalBytes(), operation: operation)
    }

    private func send<T: Decodable>(
        _ method: String, _ path: String, query: [(String, String)] = [], body: Data? = nil, operation: String
    ) async throws -> T {
        try await send(method, path, query: query, body: body.map { Array($0) }, operation: operation)
    }

    private func send<T: Decodable>(
        _ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8]?, operation: String
    ) async throws -> T {
        let response = try await raw(method, path, query: query, body: body, operation: operation)
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw ProcessingFailure(
                .permanent, "gorgias.unexpected_response", "Gorgias \(operation) returned an unreadable body")
        }
    }

    /// The first item of a filtered list that really matches, paging a few pages (a filter that worked needs one;
    /// one that was ignored is not searched through the whole account).
    private func first<T: Codable & Sendable>(
        _ path: String, _ query: [(String, String)], _ type: T.Type, operation: String, maximumPages: Int = 3,
        where matches: (T) -> Bool
    ) async throws -> T? {
        var cursor: String?
        for _ in 0..<maximumPages {
            let page: GorgiasList<T> = try await send(
                "GET", path, query: query + [("limit", "30")] + (cursor.map { [("cursor", $0)] } ?? []),
                operation: operation
            )
            if let found = page.data.first(where: matches) { return found }
            guard let next = page.meta?.nextCursor, !next.isEmpty else { return nil }
            cursor = next
        }
        return nil
    }

    /// Follows `meta.next_cursor` until the end (or `maximumPages`).
    private func list<T: Codable & Sendable>(
        _ path: String, _ query: [(String, String)], _ type: T.Type, operation: String, maximumPages: Int = 50
    ) async throws -> [T] {
        var items: [T] = []
        var cursor: String?
        for _ in 0..<maximumPages {
            let page: GorgiasList<T> = try await send(
                "GET", path, query: query + (cursor.map { [("cursor", $0)] } ?? []), operation: operation)
            items += page.data
            guard let next = page.meta?.nextCursor, !next.isEmpty else { break }
            cursor = next
        }
        return items
    }

    private func raw(
        _ method: String, _ path: String, query: [(String, String)], body: [UInt8]?,
        contentType: String = "application/json", operation: String
    ) async throws -> APIResponse {
        try await takeToken()
        var url = baseURL + path
        if !query.isEmpty { url += "?" + FormEncoding.encode(query) }
        func send(_ authorization: String, to url: String) async throws -> APIResponse {
            var headers = [("Authorization", authorization), ("Accept", "application/json")]
            if body != nil { headers.append(("Content-Type", contentType)) }
            return try await http.execute(
                APIRequest(method: method, url: url, headers: headers, body: body, service: "gorgias"))
        }
        var authorization = try await credentials.authorization()
        var response = try await send(authorization, to: url)
        if response.status == 401, case .oauthSession(let tokens) = credentials {
            // An access token Gorgias no longer takes (expired early, or revoked and re-granted): one refresh, once,
            // of the token this request sent (another request may have refreshed it meanwhile).
            let rejected = String(authorization.dropFirst("Bearer ".count))
            authorization = "Bearer " + (try await tokens.replacing(rejected))
            response = try await send(authorization, to: url)
        }
        // A merged ticket or customer answers 301 to the one that remains (contracts/gorgias/operations.json,
        // "merged"): the same call is made there, on Gorgias' own host only (the credentials go nowhere else).
        var hops = 0
        while Redirect.isRedirect(response.status), hops < 3,
            let next = response.header("Location").flatMap({ Redirect.target($0, from: url) }),
            Redirect.sameOrigin(next, baseURL)
        {
            try await observeCallLimit(response)
            if let merge = GorgiasMerge(from: url, to: next) { await merges?(merge) }
            try await takeToken()
            hops += 1
            url = next
            response = try await send(authorization, to: url)
        }
        try await observeCallLimit(response)
        if response.status == 429 {
            let retryAfter = response.retryAfter ?? .seconds(1)
            try await limiter.block(budget, until: Date().addingTimeInterval(retryAfter.seconds))
        }
        guard (200..<300).contains(response.status) else { throw GorgiasError.from(response, operation: operation) }
        return response
    }

    /// One call's token from the account's budget (a reservation's first, if the caller made one).
    private func takeToken() async throws {
        if RateReservation.current?.spend(budget.bucket) != true {
            try await limiter.acquire(budget, maximumWait: maximumRateWait)
        }
    }

    /// `X-Gorgias-Account-Api-Call-Limit: used/limit`: when Gorgias reports the bucket (nearly) full — other apps
    /// share it — stop taking tokens until it has drained enough.
    private func observeCallLimit(_ response: APIResponse) async throws {
        guard let header = response.header("X-Gorgias-Account-Api-Call-Limit") else { return }
        let parts = header.split(separator: "/").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, parts[1] > 0 else { return }
        let excess = parts[0] - (parts[1] - 2)
        if excess > 0 {
            try await limiter.block(budget, until: Date().addingTimeInterval(excess / budget.perSecond))
        }
    }
}

/// How Switchboard authenticates to one Gorgias account.
public enum GorgiasCredentials: Sendable {
    /// HTTP Basic: the user's email and API key.
    case apiKey(email: String, key: String)
    /// An OAuth2 access token used as it is (pasted at `accounts add`; public apps get twice the budget).
    case oauth(token: String)
    /// OAuth2 tokens that are refreshed before they expire and when Gorgias refuses one (`accounts connect`).
    case oauthSession(any GorgiasAccessTokens)

    func authorization() async throws -> String {
        switch self {
        case .apiKey(let email, let key): "Basic " + Data("\(email):\(key)".utf8).base64EncodedString()
        case .oauth(let token): "Bearer \(token)"
        case .oauthSession(let tokens): "Bearer " + (try await tokens.accessToken())
        }
    }

    var isOAuth: Bool {
        if case .apiKey = self { return false }
        return true
    }
}

/// A Gorgias OAuth access token that stays valid: refreshed ahead of its expiry, and on demand when Gorgias refused it.
public protocol GorgiasAccessTokens: Sendable {
    /// A token to use now (refreshed first when it is due).
    func accessToken() async throws -> String
    /// A token other than `rejected`, which Gorgias just refused: refreshed, unless another holder already did.
    func replacing(_ rejected: String) async throws -> String
}

extension JSONValue {
    /// A copy of this object with `key` set.
    func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = value
        return .object(members)
    }
}
