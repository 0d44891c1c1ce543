import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import SwitchboardBase
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardKafka
import SwitchboardObservability
import SwitchboardRuntime
import SwitchboardStore
import SwitchboardDomain

/// Runs a worker process: reads configuration, bootstraps logging and metrics, migrates the store, builds the
/// handler, then runs one ServiceGroup — the store, the HTTP client, the producer, the metrics server, the ledger
/// janitor, the DLQ depth reporter, the worker's own services and the consumer — until SIGTERM/SIGINT.
///
/// A first SIGTERM/SIGINT shuts down gracefully within `SHUTDOWN_TIMEOUT` (ServiceGroup's signal handling; past the
/// bound plus a margin it cancels, then gives up); a second one exits at once (``SecondSignalExit``).
public enum WorkerRuntime {
    /// The whole process: `main.swift` is `await WorkerRuntime.main(definition)`.
    public static func main(_ definition: WorkerDefinition) async -> Never {
        do {
            let code = try await run(definition, environment: try Environment.load())
            exit(code)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(definition.name): \(error)\n".utf8))
            exit(78)  // EX_CONFIG
        } catch {
            FileHandle.standardError.write(Data("\(definition.name): fatal: \(error)\n".utf8))
            exit(1)
        }
    }

    /// Runs until shutdown; returns the exit code (0 after a clean graceful shutdown).
    public static func run(
        _ definition: WorkerDefinition, environment: Environment, time: any TimeSource = .system
    ) async throws -> Int32 {
        try LoggingSetup.bootstrap(environment)
        let configuration = try WorkerConfiguration.from(environment, definition: definition)
        let location = try DatabaseURL.from(environment)
        let box = try SecretBox.from(environment)
        var logger = Logger(label: definition.name)
        logger[metadataKey: LogKeys.worker] = "\(definition.name)"
        logger[metadataKey: LogKeys.group] = "\(configuration.group)"
        let runLogger = logger
        let labeledMetrics = MetricsBootstrap.shared()
        // Before the store and the HTTP client: they trace their calls only if tracing is on when they are made.
        let traces = try TracingBackend.start(serviceName: definition.name, environment: environment, logger: runLogger)
        logger.info("opening store", metadata: ["database": "\(location)"])

        // Migrate and check the key on a store of their own first: the group's store serves queries only once the
        // group runs, and nothing may consume before the schema is current.
        try await Store.withStore(location, logger: logger, migrate: false, reachableWithin: .seconds(60)) { store in
            try await migrate(store, logger: runLogger)
            try await verifySecretKey(store, box)
        }
        let store = try await Store.open(
            location, logger: logger, reachableWithin: .seconds(60), metrics: labeledMetrics)
        let http = HTTPClient(
            configuration: httpConfiguration(configuration), metrics: labeledMetrics, logger: runLogger)
        let accounts = AccountDirectory(
            store: store, box: box, http: http,
            limiter: StoreRateLimiter(store: store, metrics: labeledMetrics, time: time),
            ttl: configuration.accountCacheTTL, maximumRateWait: configuration.rateLimitMaxWait,
            oauthApp: try GorgiasOAuthApp.from(environment), time: time
        )
        let context = WorkerContext(
            environment: environment, configuration: configuration, logger: runLogger, store: store,
            accounts: accounts, metrics: labeledMetrics, http: http, mailer: try SMTPMailer.from(environment),
            time: time)
        let handler = try await definition.makeHandler(context)
        let producer = try KafkaProducer(
            settings: configuration.kafka, clientId: "\(definition.name)-producer", logger: runLogger)
        let workerMetrics = WorkerMetrics(
            group: configuration.group, metrics: labeledMetrics,
            accountLabels: AccountLabels(limit: configuration.metricsAccountLabels))
        let worker = ConsumerWorker(
            configuration: configuration, handler: handler, ledger: store, parking: store, producer: producer,
            metrics: workerMetrics, logger: runLogger, time: time
        )
        let depth = DeadLetterDepthReporter(
            settings: configuration.kafka,
            deadLetterTopics: configuration.sourceTopics.map(configuration.topology.deadLetterTopic),
            metrics: workerMetrics, interval: configuration.deadLetterDepthInterval, logger: runLogger
        )
        let server = MetricsServer(
            port: configuration.metricsPort,
            host: configuration.metricsHost,
            registry: labeledMetrics.registry,
            liveness: [.init("poll-loop") { worker.isLive }],
            readiness: [.init("consumer-group") { worker.isReady }, .init("store") { await store.isReachable() }],
            logger: runLogger
        )
        runLogger.info(
            "starting",
            metadata: [
                "topics": "\(configuration.sourceTopics.joined(separator: ","))",
                "kafka.properties": "\(configuration.kafka.propertyNames.joined(separator: ","))",
                "max_in_flight": "\(configuration.maxInFlight)",
                "librdkafka": "\(Librdkafka.version)",
                "retry_tiers": "\(configuration.topology.tiers.map(DurationText.format).joined(separator: ","))",
            ]
        )
        let janitor = LedgerJanitor(store: store, retention: configuration.ledgerRetention, logger: runLogger)
        // In dependency order: a group starts its services in this order and shuts them down in reverse, so the
        // consumer drains, commits and leaves first, the producer then flushes what the drain produced, and the HTTP
        // client and the store stop after everything that uses them. The second-signal policy comes first, so it
        // listens for as long as anything runs, then the trace exporter, so it sends the last spans.
        let services: [any Service] =
            [SecondSignalExit(logger: runLogger)] + (traces.map { [$0] } ?? [])
            + [store, http, producer, server, janitor, depth]
            + definition.makeServices(context)
        var group = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
                + [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: runLogger
        )
        // A shutdown that outlasts its bound (brokers unreachable) is escalated to cancellation, and a
        // cancellation that hangs ends the process.
        group.maximumGracefulShutdownDuration = configuration.shutdownTimeout + .seconds(5)
        group.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: group).run()
        runLogger.info("stopped")
        return 0
    }

    /// The worker's HTTP client: as many connections to one host as records in flight, since every merchant's
    /// calls may go to one host (all SMS to the provider's API host; the sandbox's Gorgias), so the connection cap
    /// never bounds the in-flight window (an HTTP/2 host multiplexes them over fewer).
    static func httpConfiguration(_ configuration: WorkerConfiguration) -> HTTPClient.Configuration {
        var http = HTTPClient.Configuration()
        http.maxConnectionsPerHost = max(http.maxConnectionsPerHost, configuration.maxInFlight)
        return http
    }

    /// Migrates, waiting up to a minute for a database that is still starting (containers start together).
    private static func migrate(_ store: Store, logger: Logger) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                let applied = try await store.migrate()
                if !applied.isEmpty { logger.info("applied schema migrations \(applied)") }
                return
            } catch let error as StoreError where error.isRetriable && ContinuousClock.now < deadline {
                logger.warning("store not reachable yet, retrying: \(error)")
                try await Task.sleep(for: .seconds(2))
            }
        }
    }

    /// A wrong key would fail every event; fail at start instead, naming the setting.
    private static func verifySecretKey(_ store: Store, _ box: SecretBox) async throws {
        guard let account = try await store.accounts().first else { return }
        do {
            _ = try account.credentials(box)
        } catch {
            throw ConfigurationError(
                setting: "SWITCHBOARD_SECRET_KEY",
                reason:
                    "cannot decrypt the credentials of account \(account.id); is this the key they were stored with?")
        }
    }

}
