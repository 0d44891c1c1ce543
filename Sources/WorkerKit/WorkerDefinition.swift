import Logging
import ServiceLifecycle
import SwitchboardBase
import SwitchboardHTTP
import SwitchboardObservability
import SwitchboardRuntime
import SwitchboardStore

/// A worker is a small definition: its name, consumer group, source topics and how to build its handler.
/// The shared runtime does the rest (``WorkerRuntime/main(_:)``).
public struct WorkerDefinition: Sendable {
    /// Name, group, source topics (the runtime adds their retry tiers), metrics port and dependencies.
    public var worker: FleetMember
    public var makeHandler: @Sendable (WorkerContext) async throws -> any EventHandler
    /// Services the worker runs beside its consumer (e.g. a periodic metrics reporter).
    public var makeServices: @Sendable (WorkerContext) -> [any Service]

    public var name: String { worker.name }
    public var group: String { worker.group }
    public var topics: [String] { worker.topics }
    public var defaultMetricsPort: Int { worker.defaultMetricsPort }
    /// What each source topic's handling may call (see ``FleetMember/dependencies``).
    public var dependencies: [String: Set<ProcessingFailure.Dependency>] {
        get { worker.dependencies }
        set { worker.dependencies = newValue }
    }

    public init(
        name: String,
        group: String,
        topics: [String],
        defaultMetricsPort: Int,
        makeServices: @escaping @Sendable (WorkerContext) -> [any Service] = { _ in [] },
        makeHandler: @escaping @Sendable (WorkerContext) async throws -> any EventHandler
    ) {
        self.init(
            FleetMember(
                executable: name, name: name, group: group, topics: topics, defaultMetricsPort: defaultMetricsPort),
            makeServices: makeServices, makeHandler: makeHandler)
    }

    /// The definition of a ``FleetRoster`` member.
    public init(
        _ member: FleetMember,
        makeServices: @escaping @Sendable (WorkerContext) -> [any Service] = { _ in [] },
        makeHandler: @escaping @Sendable (WorkerContext) async throws -> any EventHandler
    ) {
        self.worker = member
        self.makeServices = makeServices
        self.makeHandler = makeHandler
    }
}

extension WorkerConfiguration {
    /// The configuration of `definition`'s worker from the environment.
    public static func from(_ environment: Environment, definition: WorkerDefinition) throws -> WorkerConfiguration {
        try from(environment, worker: definition.worker)
    }
}

/// What a handler may use, built once per process by the runtime.
public struct WorkerContext: Sendable {
    public var environment: Environment
    public var configuration: WorkerConfiguration
    public var logger: Logger
    public var store: Store
    public var accounts: AccountDirectory
    public var metrics: LabeledMetrics
    /// The process' HTTP client (the same one the account directory's clients use).
    public var http: HTTPClient
    /// Email for merchant notices (`SMTP_URL`), nil when not configured.
    public var mailer: SMTPMailer?
    /// Where every component of the process reads time.
    public var time: any TimeSource

    public init(
        environment: Environment, configuration: WorkerConfiguration, logger: Logger, store: Store,
        accounts: AccountDirectory, metrics: LabeledMetrics, http: HTTPClient, mailer: SMTPMailer? = nil,
        time: any TimeSource = .system
    ) {
        self.time = time
        self.http = http
        self.mailer = mailer
        self.environment = environment
        self.configuration = configuration
        self.logger = logger
        self.store = store
        self.accounts = accounts
        self.metrics = metrics
    }
}
