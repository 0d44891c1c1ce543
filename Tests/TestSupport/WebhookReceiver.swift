import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization
import LocalFleet
import SwitchboardBase
import SwitchboardHTTP
import SwitchboardJSON

/// A local HTTP server recording every request it receives (status callbacks, inbound texts, integration events).
public final class WebhookReceiver: Sendable {
    public struct Received: Sendable {
        public var path: String
        public var query: String?
        public var headers: [String: String]
        public var body: [UInt8]

        /// A header, by case-insensitive name.
        public func header(_ name: String) -> String? { headers[name.lowercased()] }

        public var form: [(String, String)] { FormEncoding.decode(String(decoding: body, as: UTF8.self)) }
        public func formValue(_ name: String) -> String? { form.last { $0.0 == name }?.1 }
        public var json: JSONValue? { try? JSONParser.parse(body) }
    }

    public let url: String
    private let log = RequestLog()
    private let task: Task<Void, any Error>

    private final class RequestLog: Sendable {
        let entries = Mutex<[Received]>([])
    }

    /// - Parameter status: what every request is answered with (e.g. 500 to make deliveries fail).
    public init(status: Int = 200) async throws {
        let log = self.log
        let router = Router()
        router.post("**") { request, _ -> Response in
            var buffer = try await request.body.collect(upTo: 1024 * 1024)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            log.entries.withLock {
                $0.append(
                    Received(
                        path: request.uri.path, query: request.uri.query, headers: headers,
                        body: buffer.readBytes(length: buffer.readableBytes) ?? []))
            }
            return Response(status: .init(code: status))
        }
        let port = Mutex<Int?>(nil)
        let ready = AsyncEvent()
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                port.withLock { $0 = channel.localAddress?.port }
                ready.signal()
            },
            logger: logger
        )
        task = Task { try await application.run() }
        await ready.wait()
        url = "http://127.0.0.1:\(port.withLock { $0 }!)"
    }

    deinit { task.cancel() }

    public var requests: [Received] { log.entries.withLock { $0 } }

    /// Waits until at least `count` requests arrived.
    public func waitFor(_ count: Int, timeout: Duration = .seconds(10)) async -> [Received] {
        _ = await eventually(timeout: timeout) { self.requests.count >= count }
        return requests
    }
}
