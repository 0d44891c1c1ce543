import Foundation
import Logging
import Testing
import ProviderContracts
import Sandbox
import SwitchboardHTTP
import SwitchboardJSON

/// A sandbox server running in this process for the length of a test. Every API call it serves and webhook it
/// sends is checked against the providers' contracts (`contracts/`) when it stops: a drift on either side (a
/// client's request, the sandbox's answer) records an issue in the test that ran it.
public final class SandboxFixture: Sendable {
    public let server: SandboxServer
    public let url: String
    private let task: Task<Void, any Error>
    private let observations: LockedBox<[SandboxObservation]>

    public init(configure: (inout SandboxConfiguration) -> Void = { _ in }) async throws {
        var configuration = SandboxConfiguration()
        configuration.callbackDelayMs = 20
        configure(&configuration)
        let observations = LockedBox<[SandboxObservation]>([])
        let inner = configuration.observer
        configuration.observer = { observation in
            observations.withLock { $0.append(observation) }
            inner?(observation)
        }
        var logger = Logger(label: "sandbox-fixture")
        logger.logLevel = .critical  // cancelling the server at the end of a test is not an error
        let server = try SandboxServer(configuration: configuration, logger: logger)
        self.server = server
        self.observations = observations
        self.task = Task { try await server.run() }
        self.url = await server.url()
    }

    deinit { task.cancel() }

    /// Stops the sandbox and checks what it served against the providers' contracts.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
        for drift in contractDrifts() {
            Issue.record("contract drift: \(drift)")
        }
    }

    /// The drifts so far, forgotten: for a test that makes an off-contract call on purpose and checks it is caught.
    public func takeContractDrifts() -> [ContractDrift] {
        let drifts = contractDrifts()
        observations.withLock { $0.removeAll() }
        return drifts
    }

    /// What the sandbox served so far that the providers' contracts do not allow (at most one of each).
    public func contractDrifts() -> [ContractDrift] {
        let contracts: ProviderContracts
        do {
            contracts = try ProviderContracts.repository()
        } catch {
            return [ContractDrift(exchange: "contracts/", problem: "cannot be read: \(error)")]
        }
        var seen: Set<ContractDrift> = []
        return observations.withLock { $0 }.flatMap { contracts.drifts($0) }.filter { seen.insert($0).inserted }
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

extension ProviderContracts {
    /// What one sandbox observation does that the contracts do not allow.
    public func drifts(_ observation: SandboxObservation) -> [ContractDrift] {
        switch observation {
        case .exchange(let exchange):
            let api: ContractExchange.API =
                switch exchange.api {
                case .gorgias: .gorgias
                case .twilio: .twilio
                case .twilioMessaging: .twilioMessaging
                }
            return drifts(
                ContractExchange(
                    api: api, method: exchange.method, path: exchange.path, query: exchange.query,
                    requestHeaders: exchange.requestHeaders, requestBody: exchange.requestBody,
                    status: exchange.status, responseHeaders: exchange.responseHeaders,
                    responseBody: exchange.responseBody))
        case .webhook(let webhook):
            return drifts(
                ContractWebhook(
                    kind: webhook.kind == .twilioInbound ? .twilioInbound : .twilioStatus,
                    parameters: webhook.parameters))
        }
    }
}
