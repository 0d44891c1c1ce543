import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// Serves `/metrics` (Prometheus text format), `/healthz` (liveness) and `/readyz` (readiness) on one port.
public struct MetricsServer: Service {
    /// A named check; the endpoint is healthy when every check passes.
    public struct Check: Sendable {
        public var name: String
        public var run: @Sendable () async -> Bool

        public init(_ name: String, _ run: @escaping @Sendable () async -> Bool) {
            self.name = name
            self.run = run
        }
    }

    private let application: Application<RouterResponder<BasicRequestContext>>

    /// - Parameter onListening: called with the bound port (useful with port 0).
    public init(
        port: Int,
        host: String = "0.0.0.0",
        registry: PrometheusCollectorRegistry,
        liveness: [Check],
        readiness: [Check],
        logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        router.get("healthz") { _, _ in try await Self.evaluate(liveness) }
        router.get("readyz") { _, _ in try await Self.evaluate(readiness) }
        self.application = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                // At notice, so a fleet run quietly (LOG_LEVEL=notice, as the benchmarks do) still says where it listens.
                logger.notice(
                    "metrics and health endpoints listening", metadata: ["host": "\(host)", "port": "\(bound)"])
                onListening(bound)
            },
            logger: logger
        )
    }

    private static func evaluate(_ checks: [Check]) async throws -> Response {
        var failing: [String] = []
        for check in checks where !(await check.run()) { failing.append(check.name) }
        let body = failing.isEmpty ? "ok\n" : "failing: \(failing.joined(separator: ", "))\n"
        return Response(
            status: failing.isEmpty ? .ok : .serviceUnavailable,
            headers: [.contentType: "text/plain"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }

    public func run() async throws {
        try await application.run()
    }
}
