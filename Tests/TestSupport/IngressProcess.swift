import Foundation
import LocalFleet

/// A running `switchboard-ingress` executable on a free loopback port, reading the fleet's broker and store.
public final class IngressProcess: Sendable {
    public let cli: CLIProcess
    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)" }
    public var pid: Int32 { cli.process.processIdentifier }

    /// `environment` is added to the fleet's broker, store and key (e.g. `OTEL_*` to trace it).
    public init(_ fleet: E2EFleet, arguments: [String] = [], environment extra: [String: String] = [:]) async throws {
        port = freeLoopbackPort()
        let environment = fleet.environment.filter {
            ["KAFKA_BROKERS", "DATABASE_URL", "SWITCHBOARD_SECRET_KEY"].contains($0.key)
        }.merging(extra) { _, new in new }
        cli = try CLIProcess(
            ["--port", String(port), "--idle-timeout", "2s", "--read-timeout", "2s"] + arguments,
            environment: environment, executable: .ingress)
        let url = "http://127.0.0.1:\(port)"
        guard await eventually(timeout: .seconds(30), { (try? await httpGet(url + "/healthz").status) == 200 })
        else {
            throw FleetError(description: "the ingress did not start: \(cli.errors)")
        }
    }

    public func stop() async {
        cli.send(SIGTERM)
        await cli.wait(timeout: .seconds(10))
    }
}
