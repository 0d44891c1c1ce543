import Foundation
import Logging
import ServiceLifecycle
import Ingress
import LocalFleet
import Sandbox
import SwitchboardBase
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import SwitchboardStore
import WorkerKit
import OperatorKit

/// Everything the local commands (`dev`, `bench e2e`) run: the embedded broker, the API sandbox and the ingress in
/// this process, a store (SQLite in a fresh directory unless told otherwise), accounts, and the worker executables
/// as child processes, exactly as in production.
final class LocalStack: @unchecked Sendable {
    let directory: String
    let broker: LocalBroker
    let sandbox: SandboxServer
    let producer: KafkaProducer
    let topology: RetryTopology
    let http = HTTPClient()
    let secretKey = RandomSecret.base64()
    let databaseURL: String
    /// Extra variables for every worker.
    let workerEnvironment: [String: String]
    private(set) var workers: [WorkerProcess] = []
    private var servers: (group: ServiceGroup, task: Task<Void, any Error>)?
    private(set) var ingressURL = ""
    private(set) var sandboxURL = ""

    var control: SandboxControlClient { SandboxControlClient(url: sandboxURL, http: http) }

    init(
        name: String, databaseURL: String? = nil, partitions: Int, topology: RetryTopology,
        sandbox configuration: SandboxConfiguration,
        workerEnvironment: [String: String] = [:], broker kind: LocalBroker.Kind = .mock, logger: Logger
    ) throws {
        directory =
            NSTemporaryDirectory()
            + "switchboard-\(name)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(4))"
        // Private to this user: it holds the SQLite store and logs, with phone numbers in them.
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        self.databaseURL = databaseURL ?? "sqlite:\(directory)/switchboard.sqlite"
        self.topology = topology
        self.workerEnvironment = workerEnvironment
        broker = try LocalBroker(kind, partitions: partitions, topology: topology, logger: logger)
        sandbox = try SandboxServer(configuration: configuration, logger: logger)
        producer = try KafkaProducer(settings: broker.settings(), clientId: "switchboard-\(name)", logger: logger)
    }

    /// The environment every worker gets (and what the `env` file holds for poking with the CLI).
    var environment: [String: String] {
        [
            "KAFKA_BROKERS": broker.bootstrapServers,
            "DATABASE_URL": databaseURL,
            "SWITCHBOARD_SECRET_KEY": secretKey,
            "RETRY_TIERS": topology.tiers.map(DurationText.format).joined(separator: ","),
            "ACCOUNT_CACHE_TTL": "1s",
            "KAFKA_STATISTICS_INTERVAL_MS": "1000",
            "DLQ_DEPTH_INTERVAL": "5s",
            "LOG_LEVEL": "info",
            "METRICS_HOST": "127.0.0.1",
            // The sandbox's Gorgias OAuth app, so workers refresh the tokens of accounts connected through it.
            "GORGIAS_OAUTH_CLIENT_ID": sandbox.configuration.oauthClientId,
            "GORGIAS_OAUTH_CLIENT_SECRET": sandbox.configuration.oauthClientSecret,
        ].merging(broker.workerEnvironment) { _, broker in broker }.merging(workerEnvironment) { _, extra in extra }
    }

    /// Starts the sandbox and the ingress (the ingress reads accounts from `store`).
    func startServers(store: Store, logger: Logger) async throws {
        let accounts = AccountDirectory(
            store: store, box: try SecretBox(base64Key: secretKey), http: http, limiter: UnlimitedRateLimiter(),
            ttl: .seconds(1))
        let ingress = IngressServer(
            configuration: .init(), accounts: accounts, producer: producer, receipts: store, logger: logger,
            oauth: OAuthConnect(
                app: oauthApp, store: store, box: try SecretBox(base64Key: secretKey), http: http, logger: logger))
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: sandbox), .init(service: ingress)], logger: logger))
        servers = (group, Task { try await group.run() })
        sandboxURL = await sandbox.url()
        ingressURL = await ingress.url()
    }

    /// The sandbox's Gorgias OAuth app.
    var oauthApp: GorgiasOAuthApp {
        GorgiasOAuthApp(
            clientId: sandbox.configuration.oauthClientId, clientSecret: sandbox.configuration.oauthClientSecret)
    }

    /// Connects `account` the way a merchant does through Gorgias' App Store, like `switchboard accounts connect`:
    /// the account is stored disconnected with its SMS side, the merchant's consent on the sandbox's Gorgias is
    /// approved, and the ingress' OAuth callback stores the tokens, registers the integration and connects it.
    /// Returns the consent screen's address.
    func connectThroughOAuth(_ account: LocalAccount, store: Store) async throws -> String {
        let token = try await registerTwilio(account)
        let box = try SecretBox(base64Key: secretKey)
        let gorgias = "\(sandboxURL)/gorgias/\(account.id)"
        try await store.createAccount(
            Account(
                id: account.id, status: .disconnected, gorgiasBaseURL: gorgias, gorgiasAuthKind: .oauth,
                gorgiasEmail: nil, smsBaseURL: "\(sandboxURL)/twilio", smsAccountSid: account.twilioSid,
                smsSender: .number(account.number), settings: account.settings,
                sealedCredentials: try AccountCredentials(smsAuthToken: token).sealed(box)))
        let consent = try await OAuthConnect.begin(
            accountId: account.id, subdomain: account.id, gorgiasBaseURL: gorgias, ingressURL: ingressURL,
            store: store, box: box, app: oauthApp)
        // The merchant's browser: the sandbox's consent screen approves and redirects to the ingress' callback.
        let approved = try await http.execute(APIRequest(method: "GET", url: consent, service: "browser"))
        guard approved.status == 302, let callback = approved.header("Location") else {
            throw CLIError.failed("the sandbox's consent screen answered HTTP \(approved.status)")
        }
        let connected = try await http.execute(APIRequest(method: "GET", url: callback, service: "browser"))
        guard connected.status == 200 else {
            throw CLIError.failed("the OAuth callback answered HTTP \(connected.status): \(connected.bodyText)")
        }
        return String(consent.prefix { $0 != "?" })
    }

    /// An account on the sandbox's Gorgias and Twilio, stored with fresh random credentials and connected to the
    /// ingress like `switchboard accounts add --ingress-url` does.
    func addAccount(_ account: LocalAccount, store: Store) async throws {
        let key = RandomSecret.base64()
        var gorgias: [String: JSONValue] = ["subdomain": .string(account.id)]
        if account.oauth {
            gorgias["oauthToken"] = .string(key)
        } else {
            gorgias["email"] = .string(account.email); gorgias["apiKey"] = .string(key)
        }
        try await control.post("/sandbox/gorgias/accounts", .object(gorgias))
        let token = try await registerTwilio(account)
        let box = try SecretBox(base64Key: secretKey)
        let credentials =
            account.oauth
            ? AccountCredentials(gorgiasOAuthToken: key, smsAuthToken: token)
            : AccountCredentials(gorgiasAPIKey: key, smsAuthToken: token)
        try await store.createAccount(
            Account(
                id: account.id, gorgiasBaseURL: "\(sandboxURL)/gorgias/\(account.id)",
                gorgiasAuthKind: account.oauth ? .oauth : .apiKey,
                gorgiasEmail: account.oauth ? nil : account.email, smsBaseURL: "\(sandboxURL)/twilio",
                smsAccountSid: account.twilioSid,
                smsSender: .number(account.number), settings: account.settings,
                sealedCredentials: try credentials.sealed(box)
            ))
        try await IngressRegistration.connect(
            accountId: account.id, ingressURL: ingressURL, store: store, box: box, http: http)
    }

    /// Creates `account`'s Twilio account on the sandbox with a fresh auth token; returns the token.
    private func registerTwilio(_ account: LocalAccount) async throws -> String {
        let token = RandomSecret.base64()
        try await control.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(account.twilioSid), "authToken": .string(token),
                "defaultOptOutHandling": .bool(account.providerOptOutHandling),
                // The number is the account's: connecting points its incoming texts at the ingress.
                "numbers": .object([account.number: ["sms": true, "mms": true]]),
            ])
        return token
    }

    /// Starts `count` processes of each worker type in `kinds`, each a static group member of its own.
    func startWorkers(
        _ kinds: [WorkerProcess.Kind] = WorkerProcess.Kind.allCases, count: Int = 1,
        environment extra: [String: String] = [:]
    ) throws {
        for kind in kinds {
            let first = Set(workers.filter { $0.kind == kind }.compactMap(\.instanceId)).count
            for index in first..<first + count {
                workers.append(
                    try WorkerProcess(
                        kind, instanceId: WorkerProcess.instanceId(kind, index),
                        environment: environment.merging(extra) { _, new in new }, logDirectory: directory
                    ))
            }
        }
    }

    /// Starts a replacement for `worker` under its static member id (it takes the partitions back at once).
    @discardableResult
    func restart(_ worker: WorkerProcess, environment extra: [String: String] = [:]) throws -> WorkerProcess {
        let replacement = try WorkerProcess(
            worker.kind, instanceId: worker.instanceId, environment: environment.merging(extra) { _, new in new },
            logDirectory: directory
        )
        workers.append(replacement)
        return replacement
    }

    /// Waits until every worker is in a stable consumer group; names the first that is not.
    func waitUntilReady(timeout: Duration = .seconds(60)) async throws {
        for worker in workers {
            guard await worker.waitUntilReady(timeout: timeout) else {
                throw CLIError.failed("\(worker.kind.rawValue) did not become ready; its log: \(worker.logPath)")
            }
        }
    }

    /// `<directory>/env`, readable only by this user: the variables that point the CLI, kcat or a worker here.
    @discardableResult
    func writeEnvironmentFile() throws -> String {
        let lines = environment.keys.sorted().map { "export \($0)=\(environment[$0]!)" }.joined(separator: "\n") + "\n"
        let path = directory + "/env"
        _ = FileManager.default.createFile(
            atPath: path, contents: Data(lines.utf8), attributes: [.posixPermissions: 0o600])
        return path
    }

    /// Stops the workers (SIGTERM, each within its shutdown bound), then the ingress and the sandbox.
    func stop() async -> [WorkerProcess.Kind: Int32?] {
        var exits: [WorkerProcess.Kind: Int32?] = [:]
        await withTaskGroup(of: (WorkerProcess.Kind, Int32?).self) { group in
            for worker in workers { group.addTask { (worker.kind, await worker.terminate(timeout: .seconds(30))) } }
            for await (kind, code) in group where exits[kind] == nil || code != 0 { exits[kind] = code }
        }
        if let servers {
            await servers.group.triggerGracefulShutdown()
            _ = try? await servers.task.value
        }
        await producer.shutdown()
        await http.shutdown()
        return exits
    }
}

/// An account of a local stack: its id is also its Gorgias subdomain.
struct LocalAccount: Sendable {
    var id: String
    var number: String
    var oauth = false
    var settings: AccountSettings
    /// The sandbox Twilio account's default opt-out handling (Twilio answers STOP, START and HELP itself).
    var providerOptOutHandling = true

    var email: String { "ops@\(id).example" }
    /// `AC` and 32 hex-like characters derived from the id.
    var twilioSid: String {
        let hex = id.utf8.map { String(format: "%02x", $0) }.joined()
        return "AC" + String((hex + String(repeating: "0", count: 32)).prefix(32))
    }
}

/// Random base64 keys for local secrets and credentials (never printed; the env file is 0600).
enum RandomSecret {
    static func base64() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
    }
}
