import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import SwitchboardJSON

/// The sandbox's own routes, outside the simulated APIs: what an agent and a customer do (reply, note, close,
/// text in), fault settings, and read-only inspection (JSON and a small web page). Credentials are never shown.
struct SandboxControlRoutes: Sendable {
    let server: SandboxServer

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in html(SandboxPage.index(server.state.withLock { $0 })) }
        router.get("view/gorgias/:subdomain") { _, context in
            let subdomain = context.parameters.get("subdomain") ?? ""
            guard let account = server.state.withLock({ $0.gorgias[subdomain] }) else { return notFound() }
            return html(SandboxPage.gorgias(account))
        }
        router.get("view/twilio/:sid") { _, context in
            let sid = context.parameters.get("sid") ?? ""
            guard let account = server.state.withLock({ $0.twilio[sid] }) else { return notFound() }
            return html(SandboxPage.twilio(account))
        }
        router.get("sandbox/state") { _, _ in json(Self.summary(server.state.withLock { $0 })) }
        router.get("sandbox/gorgias/:subdomain") { _, context in
            let subdomain = context.parameters.get("subdomain") ?? ""
            guard let account = server.state.withLock({ $0.gorgias[subdomain] }) else { return notFound() }
            return json(Self.gorgiasView(account))
        }
        router.get("sandbox/twilio/:sid") { _, context in
            let sid = context.parameters.get("sid") ?? ""
            guard let account = server.state.withLock({ $0.twilio[sid] }) else { return notFound() }
            return json(Self.twilioView(account))
        }
        router.get("sandbox/faults") { _, _ in
            json(try JSONParser.parse(Array(try JSONEncoder().encode(server.state.withLock { $0.faults }))))
        }
        router.post("sandbox/faults") { request, _ in
            let faults = try JSONDecoder().decode(SandboxFaults.self, from: Data(try await Self.body(request)))
            server.state.withLock { $0.faults = faults }
            return json(["ok": true])
        }
        router.post("sandbox/undeliverable") { request, _ in
            let body = try JSONParser.parse(try await Self.body(request))
            guard let phone = body["phone"]?.stringValue else { return badRequest("phone is required") }
            // `{"phone", "partial": true}`: its messages end `partially_delivered` instead.
            if body["partial"]?.boolValue == true {
                server.state.withLock { $0.partiallyDelivered = ($0.partiallyDelivered ?? []).union([phone]) }
                return json(["ok": true])
            }
            let code = Int(body["errorCode"]?.intValue ?? 30003)
            server.state.withLock { $0.undeliverable[phone] = code }
            return json(["ok": true])
        }
        router.post("sandbox/reset") { _, _ in
            server.state.withLock { state in
                let faults = state.faults
                state = SandboxState()
                state.faults = faults
            }
            return json(["ok": true])
        }
        router.post("sandbox/gorgias/accounts") { request, _ in
            let body = try JSONParser.parse(try await Self.body(request))
            guard let subdomain = body["subdomain"]?.stringValue else { return badRequest("subdomain is required") }
            server.state.withLock { state in
                state.gorgias[subdomain] = GorgiasAccount(
                    subdomain: subdomain, email: body["email"]?.stringValue, apiKey: body["apiKey"]?.stringValue,
                    oauthToken: body["oauthToken"]?.stringValue
                )
            }
            return json(["ok": true])
        }
        router.post("sandbox/twilio/accounts") { request, _ in
            let body = try JSONParser.parse(try await Self.body(request))
            guard let sid = body["accountSid"]?.stringValue, let token = body["authToken"]?.stringValue else {
                return badRequest("accountSid and authToken are required")
            }
            var account = TwilioAccount(
                accountSid: sid, authToken: token,
                defaultOptOutHandling: body["defaultOptOutHandling"]?.boolValue ?? true,
                services: (body["messagingServices"]?.objectValue ?? [:]).mapValues(Self.messagingService))
            // `{"+15557654321": {"sms": true, "mms": false, "smsUrl": …, "smsApplicationSid": "AP…"}}`: the account's
            // numbers, their capabilities and where their incoming texts go.
            account.numbers = (body["numbers"]?.objectValue ?? [:]).mapValues {
                NumberCapabilities(
                    sms: $0["sms"]?.boolValue ?? true, mms: $0["mms"]?.boolValue ?? true,
                    smsURL: $0["smsUrl"]?.stringValue, smsApplicationSid: $0["smsApplicationSid"]?.stringValue)
            }
            // `{"AP…": "https://…"}`: TwiML Apps and their `sms_url`.
            account.applications = (body["applications"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            // `{"id": "KS…", "secret": …}`: a Webhook Rule signs this account's webhooks with a shared key.
            if let id = body["webhookKey"]?["id"]?.stringValue, let secret = body["webhookKey"]?["secret"]?.stringValue
            {
                account.webhookKey = TwilioAccount.WebhookKey(id: id, secret: secret)
            }
            server.state.withLock { $0.twilio[sid] = account }
            return json(["ok": true])
        }
        router.post("sandbox/twilio/:sid/inbound") { request, context in
            try await inbound(request, sid: context.parameters.get("sid") ?? "")
        }
        // An admin deactivating an account's HTTP integrations (as Gorgias itself does after 100 failed deliveries),
        // or activating them again.
        router.post("sandbox/gorgias/:subdomain/integrations/:action") { _, context in
            let subdomain = context.parameters.get("subdomain") ?? ""
            let action = context.parameters.get("action") ?? ""
            guard action == "deactivate" || action == "activate" else { return badRequest("deactivate or activate") }
            let changed = server.state.withLock { state -> Int? in
                guard var account = state.gorgias[subdomain] else { return nil }
                for index in account.integrations.indices {
                    guard case .object(var object) = account.integrations[index].object else { continue }
                    object["deactivated_datetime"] = action == "deactivate" ? .string(SandboxTime.gorgias()) : .null
                    account.integrations[index].object = .object(object)
                    account.integrations[index].consecutiveFailures = 0
                }
                state.gorgias[subdomain] = account
                return account.integrations.count
            }
            guard let changed else { return badRequest("no Gorgias account \(subdomain)") }
            return json(["integrations": .int(Int64(changed))])
        }
        // An agent merging two customers (`{"into": <customer>}`): this one into the other.
        router.post("sandbox/gorgias/:subdomain/customers/:customer/merge") { request, context in
            let body = try JSONParser.parse(try await Self.body(request))
            let subdomain = context.parameters.get("subdomain") ?? ""
            guard let source = Int64(context.parameters.get("customer") ?? ""), let target = body["into"]?.intValue
            else { return badRequest("into (the surviving customer id) is required") }
            let reply = server.state.withLock { state -> SandboxReply? in
                guard var account = state.gorgias[subdomain] else { return nil }
                defer { state.gorgias[subdomain] = account }
                return GorgiasSimulator.mergeCustomers(
                    ["source_id": .int(source), "target_id": .int(target)], &account, &state
                ).0
            }
            guard let reply else { return notFound() }
            return SandboxServer.response(reply)
        }
        router.post("sandbox/gorgias/:subdomain/tickets/:ticket/:action") { request, context in
            try await agentAction(
                request, subdomain: context.parameters.get("subdomain") ?? "",
                ticket: Int64(context.parameters.get("ticket") ?? "") ?? 0,
                action: context.parameters.get("action") ?? ""
            )
        }
    }

    /// A customer texting one of the account's numbers: the sandbox records it, applies Twilio's keyword engine and
    /// posts the signed webhook where Twilio routes the number's texts (its Messaging Service, TwiML App or
    /// `SmsUrl`: ``TwilioAccount/inboundURL(for:)``), or to nobody when none is set. A number the account does not
    /// have is refused.
    private func inbound(_ request: Request, sid: String) async throws -> Response {
        let body = try JSONParser.parse(try await Self.body(request))
        guard let from = body["from"]?.stringValue, let to = body["to"]?.stringValue else {
            return badRequest("from and to are required")
        }
        if body["url"] != nil {
            return badRequest("url is not taken: Twilio posts to where the number's texts are routed")
        }
        // A medium is an outside `url`, or a file the sandbox hosts: `{"contentType", "size"}` (bytes of that type).
        let media = (body["media"]?.arrayValue ?? []).compactMap { item -> TwilioSimulator.InboundMedia? in
            let type = item["contentType"]?.stringValue ?? "image/jpeg"
            if let url = item["url"]?.stringValue { return .url(url, contentType: type) }
            guard let size = item["size"]?.intValue else { return nil }
            return .hosted(
                StoredFile(
                    name: "media", contentType: type, bytes: StoredFile.generated(contentType: type, size: Int(size))))
        }
        let baseURL = await server.url()
        let result = server.state.withLock { state -> (sid: String, keyword: String?, job: WebhookJob?)?? in
            guard var account = state.twilio[sid] else { return nil }
            guard account.numbers[to] != nil || account.service(of: to) != nil else { return .some(nil) }
            defer { state.twilio[sid] = account }
            return TwilioSimulator.inbound(
                from: from, to: to, body: body["body"]?.stringValue ?? "", media: media, baseURL: baseURL,
                account: &account
            )
        }
        guard let result else { return notFound() }
        guard let result else { return badRequest("\(to) is not a number of Twilio account \(sid)") }
        if let job = result.job { server.enqueue([.webhook(job)]) }
        return json([
            "sid": .string(result.sid), "keyword": result.keyword.map { .string($0) } ?? nil,
            "webhook": result.job.map { .string($0.url) } ?? nil,
        ])
    }

    /// A Messaging Service from the control API: a list of numbers, or `{numbers, inboundRequestUrl,
    /// useInboundWebhookOnNumber, advancedOptOut}`.
    static func messagingService(_ value: JSONValue) -> MessagingService {
        if let numbers = value.arrayValue { return MessagingService(numbers: numbers.compactMap(\.stringValue)) }
        return MessagingService(
            numbers: (value["numbers"]?.arrayValue ?? []).compactMap(\.stringValue),
            inboundRequestURL: value["inboundRequestUrl"]?.stringValue,
            useInboundWebhookOnNumber: value["useInboundWebhookOnNumber"]?.boolValue ?? false,
            advancedOptOut: value["advancedOptOut"]?.boolValue ?? false)
    }

    /// What an agent does in the helpdesk: `reply` (public, via helpdesk; `via: rule` for an auto-reply), `note`,
    /// `status` (close, reopen, snooze) or `merge` (`{"into": <ticket>}`: this ticket into another). Fires the account's HTTP integrations like Gorgias does.
    private func agentAction(_ request: Request, subdomain: String, ticket: Int64, action: String) async throws
        -> Response
    {
        let body = try JSONParser.parse(try await Self.body(request))
        let result = server.state.withLock { state -> (SandboxReply, [WebhookJob])? in
            guard var account = state.gorgias[subdomain] else { return nil }
            defer { state.gorgias[subdomain] = account }
            let agent: JSONValue = ["id": 7, "email": .string("agent@\(subdomain).example"), "name": "Alex Agent"]
            switch action {
            case "reply", "note":
                let channel =
                    action == "note"
                    ? "internal-note"
                    : (account.ticketIndex(ticket).flatMap { account.tickets[$0]["channel"]?.stringValue } ?? "sms")
                var message: [String: JSONValue] = [
                    "channel": .string(channel), "via": body["via"] ?? "helpdesk", "from_agent": true,
                    "public": .bool(action == "reply"),
                    "sender": agent, "body_text": body["body_text"] ?? "", "body_html": body["body_html"] ?? nil,
                    "attachments": body["attachments"] ?? [],
                ]
                if let rule = body["rule_id"] { message["rule_id"] = rule }
                return GorgiasSimulator.createMessage(ticketId: ticket, .object(message), &account, &state)
            case "status":
                var update: [String: JSONValue] = ["status": body["status"] ?? "closed"]
                if let snooze = body["snooze_datetime"] { update["snooze_datetime"] = snooze }
                return GorgiasSimulator.updateTicket(ticket, .object(update), &account, &state)
            case "merge":
                guard let target = body["into"]?.intValue else {
                    return (.gorgiasError(400, "into (the surviving ticket id) is required"), [])
                }
                return GorgiasSimulator.mergeTickets(source: ticket, target: target, &account, &state)
            default:
                return (.gorgiasError(404, "unknown action \(action)"), [])
            }
        }
        guard let (reply, jobs) = result else { return notFound() }
        server.enqueue(jobs.map(SandboxServer.ScheduledJob.webhook))
        return SandboxServer.response(reply)
    }

    // MARK: Views (credentials left out)

    static func summary(_ state: SandboxState) -> JSONValue {
        [
            "gorgias": .object(state.gorgias.mapValues(gorgiasView)),
            "twilio": .object(state.twilio.mapValues(twilioView)),
            "apiRequests": .int(Int64(state.apiRequests)),
            "credentialsSentToCDN": .int(Int64(state.credentialsSentToCDN)),
        ]
    }

    static func gorgiasView(_ account: GorgiasAccount) -> JSONValue {
        [
            "subdomain": .string(account.subdomain),
            "auth": account.oauthToken != nil || account.oauthExchanges > 0 ? "oauth" : "api_key",
            "customers": .array(account.customers), "tickets": .array(account.tickets),
            "integrations": .array(account.integrations.map { redacted($0.object) }),
            "calls": .int(Int64(account.calls)),
            "callsByOperation": .object(account.callsByOperation.mapValues { .int(Int64($0)) }),
            "refusedCalls": .int(Int64(account.refusedCalls)),
            "oauth": [
                "exchanges": .int(Int64(account.oauthExchanges)), "refreshes": .int(Int64(account.oauthRefreshes)),
                "revocations": .int(Int64(account.oauthRevocations)),
                "liveAccessTokens": .int(Int64(account.accessTokens.values.filter { $0 > Date() }.count)),
                "liveRefreshTokens": .int(Int64(account.refreshTokens.count)),
            ],
        ]
    }

    /// An integration as the sandbox shows it: the secret it sends (headers, the URL's query) masked.
    static func redacted(_ integration: JSONValue) -> JSONValue {
        guard case .object(var object) = integration, case .object(var http)? = object["http"] else {
            return integration
        }
        if case .object(let headers)? = http["headers"] {
            http["headers"] = .object(headers.mapValues { _ in "********" })
        }
        if let url = http["url"]?.stringValue, let query = url.firstIndex(of: "?") {
            http["url"] = .string(String(url[..<query]) + "?…")
        }
        object["http"] = .object(http)
        return .object(object)
    }

    static func twilioView(_ account: TwilioAccount) -> JSONValue {
        [
            "accountSid": .string(account.accountSid),
            "messages": .array(
                account.messages.map { stored in
                    guard case .object(var message) = stored.message else { return stored.message }
                    message["media_urls"] = .array(stored.mediaUrls.map { .string($0) })
                    message["sandbox_created_at"] = .string(RFC3339.format(stored.createdAt, fractional: true))
                    return .object(message)
                }),
            "blocklist": .array(account.blocklist.sorted().map { .string($0) }),
            "numbers": .object(
                account.numbers.mapValues { ["smsUrl": $0.smsURL.map { .string($0) } ?? .null] }),
        ]
    }

    // MARK: Helpers

    static func body(_ request: Request) async throws -> [UInt8] {
        var buffer = try await request.body.collect(upTo: 1024 * 1024)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}

private func json(_ value: JSONValue, status: Int = 200) -> Response {
    SandboxServer.response(.json(status, value))
}

/// An HTML page (the sandbox's own pages and its Gorgias consent screen).
func html(_ text: String) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "text/html; charset=utf-8"
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
}

private func notFound() -> Response { json(["error": "not found"], status: 404) }

private func badRequest(_ message: String) -> Response { json(["error": .string(message)], status: 400) }
