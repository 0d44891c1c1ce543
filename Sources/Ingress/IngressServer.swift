import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Shared
import Synchronization

/// Receives the providers' webhooks and produces Switchboard events:
/// - `POST /twilio/inbound/{account}`: inbound SMS (X-Twilio-Signature checked with the account's token) → `sms.inbound`
/// - `POST /twilio/status/{account}`: status callbacks (signed likewise) → `sms.delivery-status`
/// - `POST /gorgias/events/{account}?k=…`: the HTTP integration (secret in the `X-Switchboard-Secret` header or `k`)
///   → `helpdesk.replies` or `helpdesk.ticket-status`
///
/// Answers as soon as the event is acknowledged by Kafka; events it does not use still get 200 (Gorgias disables an
/// integration after 100 failed calls); a Kafka failure answers 503 so the provider retries.
public final class IngressServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 0
        /// The public base URL providers call (Twilio signs the exact URL it called); nil: from the Host header.
        public var publicURL: String?

        public init() {}
    }

    let configuration: Configuration
    let accounts: AccountDirectory
    let producer: any RecordProducing
    let logger: Logger
    private let port = Atomic<Int>(0)
    private let listening = AsyncEvent()

    public init(configuration: Configuration, accounts: AccountDirectory, producer: any RecordProducing, logger: Logger) {
        self.configuration = configuration
        self.accounts = accounts
        self.producer = producer
        self.logger = logger
    }

    /// The base URL once listening.
    public func url() async -> String {
        await listening.wait()
        return configuration.publicURL ?? "http://\(configuration.host):\(port.load(ordering: .relaxed))"
    }

    public func run() async throws {
        let router = Router()
        router.post("twilio/inbound/:account") { request, context in
            try await self.twilio(request, context) { entry, form in
                try WebhookTranslator.inboundText(accountId: entry.account.id, form: form, extraKeywords: entry.account.settings.extraKeywords)
            }
        }
        router.post("twilio/status/:account") { request, context in
            try await self.twilio(request, context) { entry, form in try WebhookTranslator.deliveryStatus(accountId: entry.account.id, form: form) }
        }
        router.post("gorgias/events/:account") { request, context in try await self.gorgias(request, context) }
        router.get("healthz") { _, _ in Response(status: .ok) }
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { [self] channel in
                port.store(channel.localAddress?.port ?? configuration.port, ordering: .relaxed)
                listening.signal()
            },
            logger: logger
        )
        try await application.run()
    }

    private func twilio(
        _ request: Request, _ context: BasicRequestContext, translate: (AccountDirectory.Entry, [(String, String)]) throws -> OutgoingRecord
    ) async throws -> Response {
        let accountId = context.parameters.get("account") ?? ""
        let body = try await Self.body(request)
        let form = FormEncoding.decode(String(decoding: body, as: UTF8.self))
        guard let entry = try await accounts.entry(accountId) else { return Self.status(404) }
        let url = publicURL(for: request)
        guard TwilioSignature.isValid(signature: request.headers[HTTPField.Name("X-Twilio-Signature")!] ?? "", url: url, parameters: form, authToken: entry.credentials.smsAuthToken) else {
            logger.warning("rejected a Twilio webhook with a bad signature", metadata: [LogKeys.accountId: "\(accountId)"])
            return Self.status(403)
        }
        do {
            try await producer.send(try translate(entry, form))
        } catch let error as WebhookError {
            return Self.status(400, error.description)
        } catch {
            logger.error("could not produce a Twilio event: \(error)")
            return Self.status(503)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/xml"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")))
    }

    private func gorgias(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let accountId = context.parameters.get("account") ?? ""
        let body = try await Self.body(request)
        guard let entry = try await accounts.entry(accountId), let secret = entry.credentials.integrationSecret else { return Self.status(404) }
        let presented = request.headers[HTTPField.Name("X-Switchboard-Secret")!]
            ?? FormEncoding.decode(request.uri.query ?? "").first { $0.0 == "k" }?.1 ?? ""
        guard TwilioSignature.constantTimeEqual(presented, secret) else {
            logger.warning("rejected a Gorgias webhook with a bad secret", metadata: [LogKeys.accountId: "\(accountId)"])
            return Self.status(403)
        }
        do {
            guard let json = try? JSONParser.parse(body), let record = try WebhookTranslator.gorgiasEvent(accountId: accountId, body: json) else {
                return Self.status(200, "ignored")
            }
            try await producer.send(record)
        } catch let error as WebhookError {
            return Self.status(200, "ignored: \(error)")
        } catch {
            logger.error("could not produce a Gorgias event: \(error)")
            return Self.status(503)
        }
        return Self.status(200)
    }

    /// The URL the provider called, as it signed it.
    private func publicURL(for request: Request) -> String {
        let base = configuration.publicURL ?? "http://\(request.head.authority ?? "\(configuration.host):\(port.load(ordering: .relaxed))")"
        return base + request.uri.description
    }

    private static func body(_ request: Request) async throws -> [UInt8] {
        var buffer = try await request.body.collect(upTo: 1024 * 1024)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    private static func status(_ code: Int, _ text: String = "") -> Response {
        Response(status: .init(code: code), body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
