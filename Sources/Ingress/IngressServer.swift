import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import SwitchboardBase
import SwitchboardWeb
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardObservability
import SwitchboardRuntime
import SwitchboardSMS
import WorkerKit
import SwitchboardDomain

/// Receives the providers' webhooks and produces Switchboard events:
/// - `POST /twilio/inbound/{account}`: inbound SMS (X-Twilio-Signature checked with the account's token) →
///   `sms.inbound`, or `sms.consent` for a consent keyword
/// - `POST /twilio/status/{account}`: status callbacks (signed likewise) → `sms.delivery-status`
/// - `POST /gorgias/events/{account}`: the HTTP integration (its secret in the `X-Switchboard-Secret` header)
///   → `helpdesk.replies` or `helpdesk.ticket-status`
///
/// It faces the internet, so it checks what it can before reading a body: the account id's form and existence and
/// the credential the request presents; an unknown account and a failed check get the same 403. Bodies are capped
/// at what the providers send (``maximumBodyBytes``) and must arrive within ``Configuration/readTimeout``; idle
/// connections close after ``Configuration/idleTimeout``; at most ``Configuration/maximumConnections`` are open.
///
/// Answers as soon as the event is acknowledged by Kafka; events it does not use still get 200 (Gorgias disables an
/// integration after 100 failed calls); a Kafka failure answers 503 so the provider retries. A retried delivery
/// carries the first delivery's time (``WebhookReceipts``), so it is a duplicate, never a conflicting event.
public final class IngressServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 0
        /// The public base URL providers call (Twilio signs the exact URL it called); nil: from the Host header, or
        /// from `X-Forwarded-Proto`/`X-Forwarded-Host` sent by a trusted proxy.
        public var publicURL: String?
        /// Addresses or CIDR blocks of reverse proxies whose `X-Forwarded-*` headers count.
        public var trustedProxies: [String] = []
        public var idleTimeout: Duration = .seconds(30)
        public var readTimeout: Duration = .seconds(10)
        public var maximumConnections = 1024

        public init() {}

        /// A non-loopback listener without a public URL would sign against whatever Host a request names; refuse it.
        public func validate() throws {
            let loopback = ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.")
            if !loopback && publicURL == nil {
                throw ConfigurationError(
                    setting: "--public-url",
                    reason:
                        "listening on \(host) needs the public URL providers call (Twilio signatures are computed against it)"
                )
            }
            if let publicURL, URL(string: publicURL)?.scheme.map({ ["http", "https"].contains($0) }) != true {
                throw ConfigurationError(setting: "--public-url", reason: "must be an http(s) URL")
            }
            if let bad = trustedProxies.first(where: { PublicURL.ProxyAddress($0) == nil }) {
                throw ConfigurationError(
                    setting: "--trusted-proxy", reason: "\(bad) is not an IP address or CIDR block")
            }
        }
    }

    /// The largest webhook body accepted: Twilio's inbound form (1,600 characters of body, ten media URLs) and
    /// Gorgias' rendered template are a few KiB.
    public static let maximumBodyBytes = 64 * 1024

    let configuration: Configuration
    let accounts: AccountDirectory
    let producer: any RecordProducing
    let receipts: any WebhookReceipts
    let logger: Logger
    /// Gorgias OAuth connect (`/oauth/install`, `/oauth/callback`); nil when no OAuth app is configured.
    let oauth: OAuthConnect?
    private let publicURL: PublicURL
    private let port = Atomic<Int>(0)
    private let listening = AsyncEvent()

    public init(
        configuration: Configuration, accounts: AccountDirectory, producer: any RecordProducing,
        receipts: any WebhookReceipts, logger: Logger, oauth: OAuthConnect? = nil
    ) {
        self.configuration = configuration
        self.oauth = oauth
        self.accounts = accounts
        self.producer = producer
        self.receipts = receipts
        self.logger = logger
        self.publicURL = PublicURL(
            configured: configuration.publicURL,
            trustedProxies: configuration.trustedProxies.compactMap(PublicURL.ProxyAddress.init))
    }

    /// The base URL once listening.
    public func url() async -> String {
        await listening.wait()
        return configuration.publicURL ?? "http://\(configuration.host):\(port.load(ordering: .relaxed))"
    }

    public func run() async throws {
        try configuration.validate()
        let router = Router(context: IngressRequestContext.self)
        router.add(middleware: WebhookTracing())
        router.post("twilio/inbound/:account") { request, context in
            try await self.twilio(request, context) { entry, form, firstSeen in
                try WebhookTranslator.inboundText(
                    accountId: entry.account.id, form: form, receivedAt: firstSeen,
                    extraKeywords: entry.account.settings.extraKeywords,
                    mediaAllowed: { MediaAddress.isAcceptable($0, providerBaseURL: entry.account.smsBaseURL) }
                )
            } receiptKey: { form in
                WebhookTranslator.Fields(form)["MessageSid"].map { "twilio:inbound:\($0)" }
            }
        }
        router.post("twilio/status/:account") { request, context in
            try await self.twilio(request, context) { entry, form, firstSeen in
                try WebhookTranslator.deliveryStatus(accountId: entry.account.id, form: form, at: firstSeen)
            } receiptKey: { form in
                let fields = WebhookTranslator.Fields(form)
                return fields["MessageSid"].map { "twilio:status:\($0):\(fields["MessageStatus"] ?? "")" }
            }
        }
        router.post("gorgias/events/:account") { request, context in try await self.gorgias(request, context) }
        router.get("healthz") { _, _ in Response(status: .ok) }
        router.get("oauth/install") { request, context in
            let callback = self.publicURL.url(
                uri: OAuthConnect.callbackPath, host: request.head.authority, peer: context.remoteAddress,
                forwardedProto: request.headers[HTTPField.Name("X-Forwarded-Proto")!],
                forwardedHost: request.headers[HTTPField.Name("X-Forwarded-Host")!],
                listening: "\(self.configuration.host):\(self.port.load(ordering: .relaxed))")
            return try await self.oauthPage(request) { oauth, query in
                try await oauth.install(subdomain: query["account"] ?? "", callbackURL: callback)
            }
        }
        router.get("oauth/callback") { request, _ in
            try await self.oauthPage(request) { oauth, query in try await oauth.callback(query) }
        }
        var http1 = HTTP1Channel.Configuration()
        http1.idleTimeout = .milliseconds(configuration.idleTimeout.milliseconds)
        let application = Application(
            router: router,
            server: .http1(configuration: http1),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(
                    configuration.maximumConnections, logger: logger)
            ),
            onServerRunning: { [self] channel in
                port.store(channel.localAddress?.port ?? configuration.port, ordering: .relaxed)
                listening.signal()
            },
            logger: logger
        )
        try await application.run()
    }

    /// Runs an OAuth step for a browser: a redirect, or a short page in words (never a token).
    private func oauthPage(
        _ request: Request, _ step: (OAuthConnect, [String: String]) async throws -> OAuthConnect.Page
    ) async throws -> Response {
        guard let oauth else {
            return Self.page(404, "Connecting through Gorgias OAuth is not configured on this Switchboard.")
        }
        let query = FormEncoding.fields(request.uri.query ?? "")
        switch try await step(oauth, query) {
        case .redirect(let url):
            var headers = WebPage.securityHeaders(styles: [])
            headers[.location] = url
            return Response(status: .found, headers: headers)
        case .done(let text): return Self.page(200, text)
        case .refused(let status, let text): return Self.page(status, text)
        }
    }

    static let pageStyle = "body{font-family:sans-serif;max-width:32em;margin:4em auto}"

    /// A short page in words, with the headers every page Switchboard serves carries (``WebPage``).
    private static func page(_ status: Int, _ text: String) -> Response {
        WebPage.response(
            """
            <!doctype html><html><head><meta charset="utf-8"><title>Switchboard</title>\
            <style>\(HTML(trusted: pageStyle))</style></head><body><p>\(text)</p></body></html>
            """, status: .init(code: status), styles: [pageStyle])
    }

    private func twilio(
        _ request: Request, _ context: IngressRequestContext,
        translate: (AccountDirectory.Entry, [(String, String)], Date) throws -> OutgoingRecord,
        receiptKey: ([(String, String)]) -> String?
    ) async throws -> Response {
        // Before the body: a known account and a signature to check.
        guard let entry = try await accounts.entry(context.parameters.get("account") ?? ""),
            let signature = request.headers[HTTPField.Name("X-Twilio-Signature")!], !signature.isEmpty
        else { return Self.forbidden }
        let body: [UInt8]
        switch await read(request) {
        case .success(let bytes): body = bytes
        case .failure(let refusal): return refusal.response
        }
        let form = FormEncoding.decode(String(decoding: body, as: UTF8.self))
        let url = publicURL.url(
            uri: request.uri.description, host: request.head.authority, peer: context.remoteAddress,
            forwardedProto: request.headers[HTTPField.Name("X-Forwarded-Proto")!],
            forwardedHost: request.headers[HTTPField.Name("X-Forwarded-Host")!],
            listening: "\(configuration.host):\(port.load(ordering: .relaxed))"
        )
        // Signed with the auth token (HMAC-SHA1), or, when a Webhook Rule applies, with one of the account's shared
        // keys and the algorithm the settings header names (contracts/twilio/signature-vectors.json).
        let settings = TwilioSignature.Settings(
            header: request.headers[HTTPField.Name("X-Twilio-Webhooks-Signature-Settings")!])
        let key: String? =
            settings.map {
                $0 == .authToken ? entry.credentials.smsAuthToken : entry.credentials.smsWebhookKey(id: $0.keyId)
            } ?? nil
        guard let settings, let key else {
            logger.warning(
                "rejected a Twilio webhook signed with a key or algorithm this account does not have (set its shared key with accounts credentials --sms-webhook-key)",
                metadata: [LogKeys.accountId: "\(entry.account.id)"])
            return Self.forbidden
        }
        guard
            TwilioSignature.isValid(
                signature: signature, url: url, parameters: form, key: key, algorithm: settings.algorithm)
        else {
            logger.warning(
                "rejected a Twilio webhook with a bad signature", metadata: [LogKeys.accountId: "\(entry.account.id)"])
            return Self.forbidden
        }
        do {
            let firstSeen =
                try await receiptKey(form).asyncMap {
                    try await receipts.firstSeen(accountId: entry.account.id, key: $0, now: Date())
                } ?? Date()
            try await producer.send(RecordTracing.carryingTrace(try translate(entry, form, firstSeen)))
        } catch let error as WebhookError {
            return Self.status(400, error.description)
        } catch {
            logger.error("could not produce a Twilio event: \(error)")
            return Self.status(503)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/xml"
        return Response(
            status: .ok, headers: headers,
            body: .init(
                byteBuffer: ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")))
    }

    private func gorgias(_ request: Request, _ context: IngressRequestContext) async throws -> Response {
        guard let entry = try await accounts.entry(context.parameters.get("account") ?? ""),
            let secret = entry.credentials.integrationSecret
        else {
            return Self.forbidden
        }
        // In the header, where registration puts it. Integrations registered before carried it in the URL's `k`;
        // that is still accepted, with a warning to re-register (`switchboard accounts reconnect --ingress-url`).
        var presented = request.headers[HTTPField.Name(IngressRegistration.secretHeader)!]
        if presented == nil, let legacy = FormEncoding.decode(request.uri.query ?? "").first(where: { $0.0 == "k" })?.1
        {
            logger.warning(
                "a Gorgias webhook carried its secret in the URL (registered before secrets moved to a header); re-register it",
                metadata: [LogKeys.accountId: "\(entry.account.id)"])
            presented = legacy
        }
        let presentedSecret = presented ?? ""
        guard TwilioSignature.constantTimeEqual(presentedSecret, secret) else {
            logger.warning(
                "rejected a Gorgias webhook with a bad secret", metadata: [LogKeys.accountId: "\(entry.account.id)"])
            return Self.forbidden
        }
        let body: [UInt8]
        switch await read(request) {
        case .success(let bytes): body = bytes
        case .failure(let refusal): return refusal.response
        }
        do {
            guard let json = try? JSONParser.parse(body) else { return Self.status(200, "ignored") }
            let key = WebhookTranslator.gorgiasReceiptKey(json, body: body)
            let firstSeen = try await receipts.firstSeen(accountId: entry.account.id, key: key, now: Date())
            let records = try WebhookTranslator.gorgiasEvents(
                accountId: entry.account.id, body: json, receivedAt: firstSeen)
            if records.isEmpty { return Self.status(200, "ignored") }
            for record in records { try await producer.send(RecordTracing.carryingTrace(record)) }
        } catch let error as WebhookError {
            return Self.status(200, "ignored: \(error)")
        } catch {
            logger.error("could not produce a Gorgias event: \(error)")
            return Self.status(503)
        }
        return Self.status(200)
    }

    /// Why a body was not read.
    private struct Refusal: Error {
        var response: Response
    }

    /// The body, refused when it is over ``maximumBodyBytes`` (413) or does not arrive within the read timeout (408).
    private func read(_ request: Request) async -> Result<[UInt8], Refusal> {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maximumBodyBytes {
            return .failure(Refusal(response: Self.status(413, "body too large")))
        }
        let timeout = configuration.readTimeout
        do {
            return .success(
                try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                    group.addTask {
                        var buffer = try await request.body.collect(upTo: Self.maximumBodyBytes)
                        return buffer.readBytes(length: buffer.readableBytes) ?? []
                    }
                    group.addTask {
                        try await Task.sleep(for: timeout)
                        return nil
                    }
                    defer { group.cancelAll() }
                    guard let first = try await group.next(), let bytes = first else {
                        throw Refusal(response: Self.status(408, "body not received in time"))
                    }
                    return bytes
                })
        } catch let refusal as Refusal {
            return .failure(refusal)
        } catch {
            return .failure(Refusal(response: Self.status(413, "body too large")))
        }
    }

    /// The same answer for an unknown account, a missing credential and a wrong one.
    private static var forbidden: Response { status(403, "forbidden") }

    private static func status(_ code: Int, _ text: String = "") -> Response {
        Response(status: .init(code: code), body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
