import Logging
import ServiceLifecycle

/// A worker is a small definition: its name, consumer group, source topics and how to build its handler.
/// The shared runtime does the rest (``WorkerRuntime/main(_:)``).
public struct WorkerDefinition: Sendable {
    public var name: String
    public var group: String
    /// Source topics; the runtime adds their retry tiers.
    public var topics: [String]
    public var defaultMetricsPort: Int
    /// What each source topic's handling may call (see ``FleetMember/dependencies``).
    public var dependencies: [String: Set<ProcessingFailure.Dependency>] = [:]
    public var makeHandler: @Sendable (WorkerContext) async throws -> any EventHandler
    /// Services the worker runs beside its consumer (e.g. a periodic metrics reporter).
    public var makeServices: @Sendable (WorkerContext) -> [any Service]

    public init(
        name: String,
        group: String,
        topics: [String],
        defaultMetricsPort: Int,
        makeServices: @escaping @Sendable (WorkerContext) -> [any Service] = { _ in [] },
        makeHandler: @escaping @Sendable (WorkerContext) async throws -> any EventHandler
    ) {
        self.name = name
        self.group = group
        self.topics = topics
        self.defaultMetricsPort = defaultMetricsPort
        self.makeServices = makeServices
        self.makeHandler = makeHandler
    }

    /// The definition of a ``FleetRoster`` member.
    public init(
        _ member: FleetMember,
        makeServices: @escaping @Sendable (WorkerContext) -> [any Service] = { _ in [] },
        makeHandler: @escaping @Sendable (WorkerContext) async throws -> any EventHandler
    ) {
        self.init(
            name: member.name, group: member.group, topics: member.topics,
            defaultMetricsPort: member.defaultMetricsPort,
            makeServices: makeServices, makeHandler: makeHandler
        )
        dependencies = member.dependencies
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

    public init(
        environment: Environment, configuration: WorkerConfiguration, logger: Logger, store: Store,
        accounts: AccountDirectory, metrics: LabeledMetrics
    ) {
        self.environment = environment
        self.configuration = configuration
        self.logger = logger
        self.store = store
        self.accounts = accounts
        self.metrics = metrics
    }
}
