import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import SwitchboardBase
import SwitchboardDomain
import SwitchboardHTTP
import SwitchboardJSON

/// A local stand-in for Gorgias and Twilio, faithful to their documented contracts (contracts/):
/// Gorgias account `<subdomain>` at `<url>/gorgias/<subdomain>` and Twilio at `<url>/twilio`.
/// Accounts are created on first use (binding the credentials first used) or seeded by configuration.
public final class SandboxServer: Service, Sendable {
    public let configuration: SandboxConfiguration
    let state: Mutex<SandboxState>
    private let http: HTTPClient
    private let logger: Logger
    private let port = Atomic<Int>(0)
    private let listening = AsyncEvent()
    private let jobs: AsyncStream<ScheduledJob>
    private let jobsContinuation: AsyncStream<ScheduledJob>.Continuation
    private let dirty = Atomic<Bool>(false)

    /// Work to do after a reply: deliver a webhook, or advance an SMS status (which may call back).
    enum ScheduledJob: Sendable {
        case webhook(WebhookJob)
        /// One message's status steps, applied (and called back) in order, each at its delay from the send.
        case statuses([TwilioSimulator.StatusStep])
    }

    public init(configuration: SandboxConfiguration, logger: Logger = Logger(label: "sandbox")) throws {
        self.configuration = configuration
        self.logger = logger
        var initial = SandboxState()
        if let path = configuration.stateFile, let data = FileManager.default.contents(atPath: path) {
            do {
                initial = try JSONDecoder().decode(SandboxState.self, from: data)
            } catch {
                throw ConfigurationError(setting: "--state-file", reason: "\(path) is not a sandbox state file")
            }
        }
        initial.faults = configuration.faults
        for seed in configuration.gorgiasAccounts where initial.gorgias[seed.subdomain] == nil {
            initial.gorgias[seed.subdomain] = GorgiasAccount(
                subdomain: seed.subdomain, email: seed.email, apiKey: seed.apiKey, oauthToken: seed.oauthToken)
        }
        for seed in configuration.twilioAccounts where initial.twilio[seed.accountSid] == nil {
            initial.twilio[seed.accountSid] = TwilioAccount(accountSid: seed.accountSid, authToken: seed.authToken)
        }
        initial.undeliverable.merge(configuration.undeliverable) { _, new in new }
        self.state = Mutex(initial)
        self.http = HTTPClient(logger: logger)
        (jobs, jobsContinuation) = AsyncStream.makeStream(of: ScheduledJob.self)
    }

    /// The base URL once listening (waits for the listener).
    public func url() async -> String {
        await listening.wait()
        return "http://\(configuration.host):\(port.load(ordering: .relaxed))"
    }

    public func run() async throws {
        let application = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { [self] channel in
                port.store(channel.localAddress?.port ?? configuration.port, ordering: .relaxed)
                listening.signal()
            },
            logger: logger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.run() }
            group.addTask { await self.deliverJobs() }
            group.addTask { await self.persistPeriodically() }
            group.addTask { await self.endSnoozesPeriodically() }
            try await group.next()
            group.cancelAll()
        }
        jobsContinuation.finish()
        persist()
        await http.shutdown()
    }

    // MARK: Routes

    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ControlRequestCheck())
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("gorgias/:subdomain/api/**", method: method) { request, context in
                try await self.gorgias(request, context)
            }
            router.on("twilio/2010-04-01/Accounts/:sid/**", method: method) { request, context in
                try await self.twilio(request, context)
            }
            router.on("twilio/messaging/v1/**", method: method) { request, context in
                try await self.twilioMessaging(request, context)
            }
        }
        // Twilio's media CDN: the media URLs redirect here, to another host name for this server.
        router.get("twilio-cdn/:media") { request, context in
            self.cdn(request, media: context.parameters.get("media") ?? "")
        }
        router.get("gorgias/:subdomain/files/:file/:name") { _, context in
            let subdomain = context.parameters.get("subdomain") ?? ""
            let id = context.parameters.get("file") ?? ""
            guard let file = self.state.withLock({ $0.gorgias[subdomain]?.files[id] }) else {
                return Response(status: .notFound)
            }
            return Self.response(
                SandboxReply(status: 200, headers: [("Content-Type", file.contentType)], body: nil, rawBody: file.bytes)
            )
        }
        SandboxOAuth(server: self).register(on: router)
        SandboxControlRoutes(server: self).register(on: router)
        return router
    }

    private func gorgias(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let subdomain = context.parameters.get("subdomain") ?? ""
        let path = context.parameters.getCatchAll().map(String.init).filter { !$0.isEmpty }
        let queryPairs = FormEncoding.decode(request.uri.query ?? "")
        let query = Dictionary(queryPairs, uniquingKeysWith: { _, last in last })
        let bytes = try await body(request)
        let authorization = request.headers[.authorization]
        let autoCreate = configuration.autoCreateAccounts
        // `POST /api/upload` takes a multipart file (the one non-JSON call); the file is served at a URL of its own.
        let upload =
            request.method == .post && path == ["upload"]
            ? MultipartForm.firstFile(bytes, contentType: request.headers[.contentType] ?? "") : nil
        let base = "\(await url())/gorgias/\(subdomain)"
        let (reply, dropped) = await withFaults(service: .gorgias, subdomain: subdomain) {
            let parsedBody: JSONValue?
            if upload != nil || (request.method == .post && path == ["upload"]) {
                parsedBody = nil
            } else if bytes.isEmpty {
                parsedBody = nil
            } else if let value = try? JSONParser.parse(bytes) {
                parsedBody = value
            } else {
                return (.gorgiasError(400, "Invalid JSON body"), [])
            }
            return self.state.withLock { state -> (SandboxReply, [ScheduledJob]) in
                guard
                    let (authenticated, scopes) = Self.authenticateGorgias(
                        subdomain, authorization, &state, autoCreate: autoCreate)
                else {
                    state.gorgias[subdomain]?.refusedCalls += 1
                    return (
                        .gorgiasError(
                            401, "The server could not verify that you are authorized to access the URL requested."), []
                    )
                }
                var account = authenticated
                account.calls += 1
                defer { state.gorgias[subdomain] = account }
                let admission = account.bucket.admit()
                let limitHeader = ("X-Gorgias-Account-Api-Call-Limit", account.bucket.usage)
                guard admission.admitted else {
                    var reply = SandboxReply.gorgiasError(429, "Too many requests. Please retry after some time.")
                    reply.headers = [limitHeader, ("Retry-after", String(Int(admission.retryAfter.rounded(.up))))]
                    return (reply, [])
                }
                if let needed = GorgiasScopes.required(request.method.rawValue, path), let scopes,
                    !scopes.contains(needed)
                {
                    var reply = SandboxReply.gorgiasError(403, "The token lacks the scope \(needed).")
                    reply.headers.append(limitHeader)
                    return (reply, [])
                }
                if var moved = GorgiasSimulator.mergedRedirect(path, query: queryPairs, account, base: base) {
                    moved.headers.append(limitHeader)
                    return (moved, [])
                }
                if request.method == .post && path == ["upload"] {
                    var reply = GorgiasSimulator.upload(
                        upload, filesURL: base + "/files", account: &account, state: &state)
                    reply.headers.append(limitHeader)
                    return (reply, [])
                }
                var (reply, webhooks) = GorgiasSimulator.handle(
                    request.method.rawValue, path, query: query, body: parsedBody, account: &account, state: &state)
                reply.headers.append(limitHeader)
                return (reply, webhooks.map(ScheduledJob.webhook))
            }
        }
        observe(.gorgias, request, path: "/api/" + path.joined(separator: "/"), query: queryPairs, body: bytes, reply)
        return dropped ? Self.droppedResponse(reply) : Self.response(reply)
    }

    private func twilio(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let sid = context.parameters.get("sid") ?? ""
        let path = context.parameters.getCatchAll().map(String.init).filter { !$0.isEmpty }
        let query = FormEncoding.decode(request.uri.query ?? "")
        let bytes = try await body(request)
        let form = FormEncoding.decode(String(decoding: bytes, as: UTF8.self))
        let authorization = request.headers[.authorization]
        let delay = configuration.callbackDelayMs
        let autoCreate = configuration.autoCreateAccounts
        let create = request.method == .post && path == ["Messages.json"]
        let cdn = Self.cdnBase(host: request.head.authority ?? "\(configuration.host):\(port.load(ordering: .relaxed))")
        let (reply, dropped) = await withFaults(service: .twilio, smsCreate: create) {
            self.state.withLock { state -> (SandboxReply, [ScheduledJob]) in
                guard var account = Self.authenticateTwilio(sid, authorization, &state, autoCreate: autoCreate) else {
                    return (TwilioSimulator.error(401, 20003, "Authenticate"), [])
                }
                defer { state.twilio[sid] = account }
                let (reply, steps) = TwilioSimulator.handle(
                    request.method.rawValue, path, query: query, form: form, account: &account, state: &state,
                    callbackDelayMs: delay, cdn: cdn)
                return (reply, steps.isEmpty ? [] : [ScheduledJob.statuses(steps)])
            }
        }
        observe(
            .twilio, request, path: "/2010-04-01/Accounts/\(sid)/" + path.joined(separator: "/"), query: query,
            body: bytes, reply)
        return dropped ? Self.droppedResponse(reply) : Self.response(reply)
    }

    /// Messaging v1 (`/twilio/messaging/v1/…`): the account is the Basic auth user, as at messaging.twilio.com.
    private func twilioMessaging(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let path = context.parameters.getCatchAll().map(String.init).filter { !$0.isEmpty }
        let query = FormEncoding.decode(request.uri.query ?? "")
        let bytes = try await body(request)
        let authorization = request.headers[.authorization]
        let base = "\(await url())/twilio/messaging"
        let user = authorization.flatMap(Self.basicUser) ?? ""
        let (reply, dropped) = await withFaults(service: .twilio) {
            self.state.withLock { state -> (SandboxReply, [ScheduledJob]) in
                guard let account = Self.authenticateTwilio(user, authorization, &state, autoCreate: false) else {
                    return (TwilioSimulator.error(401, 20003, "Authenticate"), [])
                }
                return (
                    TwilioMessagingSimulator.handle(
                        request.method.rawValue, path, query: query, account: account, base: base), []
                )
            }
        }
        observe(.twilioMessaging, request, path: "/v1/" + path.joined(separator: "/"), query: query, body: bytes, reply)
        return dropped ? Self.droppedResponse(reply) : Self.response(reply)
    }

    /// The CDN serves a medium to anyone holding its URL and refuses a request that carries credentials: those are
    /// the account's, and a client that forwards them across a redirect leaks them (counted).
    private func cdn(_ request: Request, media: String) -> Response {
        if request.headers[.authorization] != nil {
            state.withLock { $0.credentialsSentToCDN += 1 }
            return Self.response(.json(400, ["error": "credentials were sent to the media CDN"]))
        }
        guard let file = state.withLock({ state in state.twilio.values.lazy.compactMap { $0.media[media] }.first })
        else { return Self.response(.json(404, ["error": "not found"])) }
        return Self.response(
            SandboxReply(status: 200, headers: [("Content-Type", file.contentType)], body: nil, rawBody: file.bytes))
    }

    /// Another host name for this server (`127.0.0.1` ⇄ `localhost`), so Twilio's media redirect crosses hosts.
    static func cdnBase(host authority: String) -> String {
        let port = authority.split(separator: ":").last.map(String.init) ?? ""
        let host = authority.hasPrefix("localhost") ? "127.0.0.1" : "localhost"
        return "http://\(host):\(port)"
    }

    /// The user of a Basic authorization header.
    static func basicUser(_ header: String) -> String? {
        guard header.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
            let colon = decoded.firstIndex(of: ":")
        else { return nil }
        return String(decoded[..<colon])
    }

    /// Tells the observer (if any) of a served call.
    private func observe(
        _ api: SandboxExchange.API, _ request: Request, path: String, query: [(String, String)], body: [UInt8],
        _ reply: SandboxReply
    ) {
        guard let observer = configuration.observer else { return }
        var headers = reply.headers
        if reply.body != nil { headers.append(("Content-Type", "application/json")) }
        observer(
            .exchange(
                SandboxExchange(
                    api: api, method: request.method.rawValue, path: path, query: query,
                    requestHeaders: request.headers.map { ($0.name.rawName, $0.value) }, requestBody: body,
                    status: reply.status, responseHeaders: headers,
                    responseBody: reply.rawBody ?? reply.body?.canonicalBytes() ?? [])))
    }

    private func body(_ request: Request) async throws -> [UInt8] {
        var buffer = try await request.body.collect(upTo: 4 * 1024 * 1024)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// HTTP Basic (email:key) or Bearer, with the scopes a Bearer token was granted (nil: every scope, as for an API
    /// key or a token pasted at account creation). An unknown subdomain is refused, unless `autoCreate`: then the
    /// first credentials used create the account.
    static func authenticateGorgias(
        _ subdomain: String, _ header: String?, _ state: inout SandboxState, autoCreate: Bool
    ) -> (GorgiasAccount, scopes: [String]?)? {
        guard let header, !subdomain.isEmpty else { return nil }
        var email: String?
        var key: String?
        var token: String?
        if header.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
            let colon = decoded.firstIndex(of: ":")
        {
            email = String(decoded[..<colon])
            key = String(decoded[decoded.index(after: colon)...])
        } else if header.hasPrefix("Bearer ") {
            token = String(header.dropFirst(7))
        } else {
            return nil
        }
        guard let account = state.gorgias[subdomain] else {
            guard autoCreate else { return nil }
            let created = GorgiasAccount(subdomain: subdomain, email: email, apiKey: key, oauthToken: token)
            state.gorgias[subdomain] = created
            return (created, nil)
        }
        if let token { return account.acceptsBearer(token) ? (account, account.tokenScopes?[token]) : nil }
        return account.apiKey != nil && account.apiKey == key && account.email == email ? (account, nil) : nil
    }

    static func authenticateTwilio(_ sid: String, _ header: String?, _ state: inout SandboxState, autoCreate: Bool)
        -> TwilioAccount?
    {
        guard let header, header.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
            let colon = decoded.firstIndex(of: ":"), String(decoded[..<colon]) == sid
        else { return nil }
        let token = String(decoded[decoded.index(after: colon)...])
        guard let account = state.twilio[sid] else {
            guard autoCreate else { return nil }
            let created = TwilioAccount(accountSid: sid, authToken: token)
            state.twilio[sid] = created
            return created
        }
        return account.authToken == token ? account : nil
    }

    // MARK: Faults

    enum Service { case gorgias, twilio }

    /// Applies latency, stalls, 429 bursts and 5xx before handling (nothing changes), and dropped connections after
    /// handling (the change happened, the client never hears of it). Gorgias' refusals carry its call-limit header,
    /// as every Gorgias response does.
    private func withFaults(
        service: Service, subdomain: String? = nil, smsCreate: Bool = false,
        _ handle: () -> (SandboxReply, [ScheduledJob])
    ) async -> (SandboxReply, dropped: Bool) {
        let (faults, count, burst, failCreate, dropCreate, usage) = state.withLock {
            state -> (SandboxFaults, Int, Bool, Bool, Bool, String?) in
            state.apiRequests += 1
            let burst = state.faults.burst429 > 0
            if burst { state.faults.burst429 -= 1 }
            let fail = smsCreate && state.faults.failNextSMSCreates > 0
            if fail { state.faults.failNextSMSCreates -= 1 }
            let drop = smsCreate && !fail && state.faults.dropNextSMSCreates > 0
            if drop { state.faults.dropNextSMSCreates -= 1 }
            return (
                state.faults, state.apiRequests, burst, fail, drop,
                subdomain.flatMap { state.gorgias[$0]?.bucket.usage }
            )
        }
        let limitHeader = usage.map { [("X-Gorgias-Account-Api-Call-Limit", $0)] } ?? []
        var delay = faults.latencyMs
        if faults.stallEvery > 0 && count % faults.stallEvery == 0 { delay += faults.stallMs }
        if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
        if burst {
            var reply =
                service == .gorgias
                ? SandboxReply.gorgiasError(429, "Too many requests. Please retry after some time.")
                : TwilioSimulator.error(429, 20429, "Too Many Requests")
            reply.headers.append(("Retry-after", "1"))
            reply.headers += limitHeader
            return (reply, false)
        }
        if failCreate || Double.random(in: 0..<1) < faults.failRate
            || (service == .gorgias && Double.random(in: 0..<1) < faults.gorgiasFailRate)
        {
            var reply =
                service == .gorgias
                ? SandboxReply.gorgiasError(503, "Service temporarily unavailable.")
                : TwilioSimulator.error(503, 20500, "Service Unavailable")
            reply.headers += limitHeader
            return (reply, false)
        }
        let (reply, scheduled) = handle()
        dirty.store(true, ordering: .relaxed)
        scheduled.forEach { jobsContinuation.yield($0) }
        return (reply, dropCreate || Double.random(in: 0..<1) < faults.dropRate)
    }

    static func response(_ reply: SandboxReply) -> Response {
        let bytes = reply.rawBody ?? reply.body?.canonicalBytes() ?? []
        var headers = HTTPFields()
        if reply.body != nil { headers[.contentType] = "application/json" }
        for (name, value) in reply.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(
            status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Sends the headers and half the body, then drops the connection.
    static func droppedResponse(_ reply: SandboxReply) -> Response {
        let bytes = reply.body?.canonicalBytes() ?? Array("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        let half = Array(bytes.prefix(max(1, bytes.count / 2)))
        return Response(
            status: .init(code: reply.status), headers: headers,
            body: ResponseBody(contentLength: bytes.count + 1) { writer in
                try await writer.write(ByteBuffer(bytes: half))
                throw CancellationError()
            }
        )
    }

    // MARK: Webhooks and status callbacks

    func enqueue(_ scheduled: [ScheduledJob]) {
        dirty.store(true, ordering: .relaxed)
        scheduled.forEach { jobsContinuation.yield($0) }
    }

    private func deliverJobs() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await self.perform(job) }
            }
        }
    }

    private func perform(_ job: ScheduledJob) async {
        switch job {
        case .statuses(let steps):
            // Sequential, so a message's callbacks reach the receiver in the order its statuses happen.
            let sent = ContinuousClock.now
            for step in steps {
                try? await Task.sleep(until: sent + .milliseconds(step.delayMs))
                let callback = state.withLock { state -> WebhookJob? in
                    guard var account = state.twilio[step.accountSid] else { return nil }
                    defer { state.twilio[step.accountSid] = account }
                    return TwilioSimulator.apply(step, &account)
                }
                dirty.store(true, ordering: .relaxed)
                if let callback { await deliver(callback) }
            }
        case .webhook(let webhook):
            await deliver(webhook)
        }
    }

    /// Posts a webhook with retries; may duplicate or delay it (faults). Integration failures count toward Gorgias'
    /// auto-disable after 100 consecutive failures.
    private func deliver(_ webhook: WebhookJob) async {
        let kind: SandboxWebhook.Kind? =
            switch webhook.kind {
            case .inbound: .twilioInbound
            case .statusCallback: .twilioStatus
            case .integration: nil
            }
        if let observer = configuration.observer, let kind {
            observer(
                .webhook(
                    SandboxWebhook(
                        kind: kind, url: webhook.url,
                        parameters: FormEncoding.decode(String(decoding: webhook.body, as: UTF8.self)))))
        }
        let faults = state.withLock { $0.faults }
        let copies = Double.random(in: 0..<1) < faults.duplicateWebhookRate ? 2 : 1
        for _ in 0..<copies {
            let jitter = faults.webhookJitterMs > 0 ? Int.random(in: 0...faults.webhookJitterMs) : 0
            if webhook.delayMs + jitter > 0 { try? await Task.sleep(for: .milliseconds(webhook.delayMs + jitter)) }
            for attempt in 0..<3 {
                let succeeded: Bool
                do {
                    let response = try await http.execute(
                        APIRequest(
                            method: "POST", url: webhook.url, headers: webhook.headers, body: webhook.body,
                            timeout: .seconds(10), service: "webhook"
                        ))
                    succeeded = (200..<300).contains(response.status)
                } catch {
                    succeeded = false
                }
                recordDelivery(webhook, succeeded: succeeded)
                if succeeded { break }
                try? await Task.sleep(for: .milliseconds(200 << attempt))
            }
        }
    }

    private func recordDelivery(_ webhook: WebhookJob, succeeded: Bool) {
        guard case .integration(let subdomain, let id) = webhook.kind else { return }
        state.withLock { state in
            guard let index = state.gorgias[subdomain]?.integrations.firstIndex(where: { $0.id == id }) else { return }
            var integration = state.gorgias[subdomain]!.integrations[index]
            integration.consecutiveFailures = succeeded ? 0 : integration.consecutiveFailures + 1
            if integration.consecutiveFailures >= 100, case .object(var object) = integration.object {
                object["deactivated_datetime"] = .string(SandboxTime.gorgias())
                integration.object = .object(object)
            }
            state.gorgias[subdomain]!.integrations[index] = integration
        }
    }

    /// Opens tickets whose snooze ended, twice a second, as Gorgias does on its own.
    private func endSnoozesPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(500))
            let jobs = state.withLock { state -> [WebhookJob] in
                var jobs: [WebhookJob] = []
                for subdomain in state.gorgias.keys {
                    guard var account = state.gorgias[subdomain] else { continue }
                    jobs += GorgiasSimulator.endSnoozes(&account, &state)
                    state.gorgias[subdomain] = account
                }
                return jobs
            }
            if !jobs.isEmpty { enqueue(jobs.map(ScheduledJob.webhook)) }
        }
    }

    // MARK: Persistence

    private func persistPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(2))
            if dirty.exchange(false, ordering: .relaxed) { persist() }
        }
    }

    private func persist() {
        guard let path = configuration.stateFile else { return }
        let snapshot = state.withLock { $0 }
        do {
            try JSONEncoder().encode(snapshot).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            logger.warning("could not save sandbox state to \(path): \(error)")
        }
    }
}
