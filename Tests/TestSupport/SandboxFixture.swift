import Foundation
import Logging
import Sandbox
import Shared

/// A sandbox server running in this process for the length of a test.
public final class SandboxFixture: Sendable {
    public let server: SandboxServer
    public let url: String
    private let task: Task<Void, any Error>

    public init(configure: (inout SandboxConfiguration) -> Void = { _ in }) async throws {
        var configuration = SandboxConfiguration()
        configuration.callbackDelayMs = 20
        configure(&configuration)
        var logger = Logger(label: "sandbox-fixture")
        logger.logLevel = .critical  // cancelling the server at the end of a test is not an error
        let server = try SandboxServer(configuration: configuration, logger: logger)
        self.server = server
        self.task = Task { try await server.run() }
        self.url = await server.url()
    }

    deinit { task.cancel() }

    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// GET a sandbox JSON endpoint (`/sandbox/...`).
    public func json(_ path: String) async throws -> JSONValue {
        try await HTTPClient.withClient { try await SandboxControlClient(url: url, http: $0).get(path) }
    }

    /// POST JSON to a sandbox control endpoint; a non-2xx answer throws.
    @discardableResult
    public func post(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        try await HTTPClient.withClient { try await SandboxControlClient(url: url, http: $0).post(path, body) }
    }

    public func gorgiasBaseURL(_ subdomain: String) -> String { "\(url)/gorgias/\(subdomain)" }
    public var twilioBaseURL: String { "\(url)/twilio" }
}
