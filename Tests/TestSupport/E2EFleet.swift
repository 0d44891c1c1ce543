import Foundation
import Logging
import LocalFleet
import Sandbox
import SwitchboardDomain
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardStore
import SwitchboardBase

/// The whole local fleet for end-to-end tests: an embedded broker and the API sandbox in this process, a store,
/// provisioned accounts, and the real worker executables as separate processes.
public final class E2EFleet: @unchecked Sendable {
    public let broker: TestBroker
    public let sandbox: SandboxFixture
    public let database: DatabaseURL
    public let secretKey = Data((0..<32).map { UInt8(($0 * 7 + 3) % 256) }).base64EncodedString()
    public private(set) var workers: [WorkerProcess] = []
    public let extraEnvironment: [String: String]

    /// A test account: Gorgias subdomain and Twilio credentials the sandbox accepts on first use.
    public struct TestAccount: Sendable {
        public var id: String
        public var number: String
        /// OAuth accounts get Gorgias' larger budget (80 per 20 s instead of 40).
        public var oauth: Bool
        /// `AC` and 32 hex digits: the id's UTF-8 bytes in hex, zero-padded, so distinct ids (up to 16 bytes) never
        /// share a sid (padding the id itself made `shop1` and `shop10` one Twilio account).
        public var twilioSid: String {
            let hex = id.utf8.map { String($0, radix: 16) }.joined()
            return "AC" + String((hex + String(repeating: "0", count: 32)).prefix(32))
        }
        public var gorgiasKey: String { "gorgias-key-\(id)" }
        public var twilioToken: String { "twilio-token-\(id)" }

        public init(id: String, number: String = "+15557654321", oauth: Bool = false) {
            self.id = id
            self.number = number
            self.oauth = oauth
        }
    }

    public init(
        database: DatabaseURL? = nil,
        partitions: Int = 3,
        brokers: Int = 1,
        tiers: [Duration] = [.seconds(2), .seconds(4)],
        environment: [String: String] = [:],
        sandbox configure: (inout SandboxConfiguration) -> Void = { _ in }
    ) async throws {
        broker = try TestBroker(partitions: partitions, tiers: tiers, brokers: brokers)
        sandbox = try await SandboxFixture(configure: configure)
        self.database = database ?? .sqlite(path: NSTemporaryDirectory() + "e2e-\(UUID().uuidString.prefix(8)).sqlite")
        extraEnvironment = environment
        try await Store.withStore(self.database, logger: Logger(label: "e2e")) { _ in }
    }

    /// Environment of a worker process on this fleet.
    public var environment: [String: String] {
        var values = broker.environment(extraEnvironment).values
        values["DATABASE_URL"] = "\(databaseURLString)"
        values["SWITCHBOARD_SECRET_KEY"] = secretKey
        values["ACCOUNT_CACHE_TTL"] = "1s"
        values["METRICS_HOST"] = "127.0.0.1"
        values["METRICS_PORT"] = nil
        return values
    }

    var databaseURLString: String {
        switch database {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let host, let port, let username, _, let name, _):
            "postgres://\(username)@\(host):\(port)/\(name)?sslmode=disable"
        }
    }

    /// Adds an account pointing at the sandbox. `twilioOptOutHandling` is the sandbox Twilio account's default opt-out
    /// handling (on, as for a new Twilio number: it answers STOP, START and HELP itself).
    @discardableResult
    public func addAccount(
        _ test: TestAccount, twilioOptOutHandling: Bool = true, configure: (inout AccountSettings) -> Void = { _ in }
    ) async throws -> Account {
        var settings = AccountSettings(brand: "Brand \(test.id)")
        settings.helpContact = "help@\(test.id).example"
        configure(&settings)
        let box = try SecretBox(base64Key: secretKey)
        let credentials =
            test.oauth
            ? AccountCredentials(gorgiasOAuthToken: test.gorgiasKey, smsAuthToken: test.twilioToken)
            : AccountCredentials(gorgiasAPIKey: test.gorgiasKey, smsAuthToken: test.twilioToken)
        let account = Account(
            id: test.id, gorgiasBaseURL: sandbox.gorgiasBaseURL(test.id),
            gorgiasAuthKind: test.oauth ? .oauth : .apiKey,
            gorgiasEmail: test.oauth ? nil : "ops@\(test.id).example", smsBaseURL: sandbox.twilioBaseURL,
            smsAccountSid: test.twilioSid,
            smsSender: .number(test.number), settings: settings, sealedCredentials: try credentials.sealed(box)
        )
        try await withStore { try await $0.createAccount(account) }
        var gorgias: [String: JSONValue] = ["subdomain": .string(test.id)]
        if test.oauth {
            gorgias["oauthToken"] = .string(test.gorgiasKey)
        } else {
            gorgias["email"] = .string("ops@\(test.id).example")
            gorgias["apiKey"] = .string(test.gorgiasKey)
        }
        try await sandbox.post("/sandbox/gorgias/accounts", .object(gorgias))
        try await sandbox.post(
            "/sandbox/twilio/accounts",
            [
                "accountSid": .string(test.twilioSid), "authToken": .string(test.twilioToken),
                "defaultOptOutHandling": .bool(twilioOptOutHandling),
                // The number is the account's: connecting points its incoming texts at the ingress.
                "numbers": .object([test.number: ["sms": true, "mms": true]]),
            ])
        return account
    }

    /// Runs `body` with a connection to the fleet's store.
    public func withStore<T: Sendable>(_ body: @Sendable (Store) async throws -> T) async throws -> T {
        try await Store.withStore(database, logger: Logger(label: "e2e-store"), migrate: false, body)
    }

    /// Starts a worker process, a new static group member, and waits until it is in a stable group.
    @discardableResult
    public func start(_ kind: WorkerProcess.Kind, environment extra: [String: String] = [:], waitReady: Bool = true)
        async throws -> WorkerProcess
    {
        let index = Set(workers.filter { $0.kind == kind }.compactMap(\.instanceId)).count
        return try await launch(
            kind, instanceId: WorkerProcess.instanceId(kind, index), environment: extra, waitReady: waitReady)
    }

    /// Starts a replacement for `worker` (usually just killed): the same kind under the same static member id, so it
    /// takes the partitions back without waiting out the session timeout, as a restarted pod does.
    @discardableResult
    public func restart(_ worker: WorkerProcess, environment extra: [String: String] = [:], waitReady: Bool = false)
        async throws -> WorkerProcess
    {
        try await launch(worker.kind, instanceId: worker.instanceId, environment: extra, waitReady: waitReady)
    }

    private func launch(
        _ kind: WorkerProcess.Kind, instanceId: String?, environment extra: [String: String], waitReady: Bool
    ) async throws -> WorkerProcess {
        let worker = try WorkerProcess(
            kind, instanceId: instanceId, environment: environment.merging(extra) { _, new in new })
        workers.append(worker)
        if waitReady {
            guard await worker.waitUntilReady() else {
                throw FleetError(description: "\(kind.rawValue) did not become ready:\n\(worker.log.suffix(3000))")
            }
        }
        return worker
    }

    /// Produces events in order.
    public func produce(_ records: [OutgoingRecord]) async throws {
        try await broker.send(records)
    }

    /// The sandbox's view of a Gorgias account.
    public func gorgias(_ account: String) async throws -> JSONValue {
        try await sandbox.json("/sandbox/gorgias/\(account)")
    }

    /// The sandbox's SMS log of an account (outbound and inbound).
    public func sms(_ test: TestAccount) async throws -> [JSONValue] {
        try await sandbox.json("/sandbox/twilio/\(test.twilioSid)")["messages"]?.arrayValue ?? []
    }

    /// Stops every worker (SIGTERM) and the sandbox.
    public func shutdown() async {
        for worker in workers { await worker.terminate() }
        await sandbox.stop()
    }

    /// The logs of every worker, for a failed test's message.
    public var logs: String {
        workers.map { "--- \($0.kind.rawValue)\n" + String($0.log.suffix(4000)) }.joined(separator: "\n")
    }

    /// Writes every worker's whole log to a temporary file and returns its path (for runs too long to quote).
    public func saveLogs(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "switchboard-\(name)-\(UUID().uuidString.prefix(8)).log"
        let text = workers.map { "--- \($0.kind.rawValue) pid \($0.processIdentifier)\n" + $0.log }.joined(
            separator: "\n")
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }
}
