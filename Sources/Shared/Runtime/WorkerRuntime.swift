import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Runs a worker process: reads configuration, bootstraps logging and metrics, opens and migrates the store,
/// builds the handler, then runs the metrics server, the ledger janitor and the consumer as services until
/// SIGTERM/SIGINT.
///
/// A first signal shuts down gracefully within `SHUTDOWN_TIMEOUT`; a second one, or the bound plus a margin
/// expiring, exits at once without committing unfinished work.
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
    public static func run(_ definition: WorkerDefinition, environment: Environment) async throws -> Int32 {
        try LoggingSetup.bootstrap(environment)
        let configuration = try WorkerConfiguration.from(environment, definition: definition)
        let location = try DatabaseURL.from(environment)
        let box = try SecretBox.from(environment)
        let retention = try environment.duration("LEDGER_RETENTION", default: .seconds(30 * 86400))
        let accountCacheTTL = try environment.duration("ACCOUNT_CACHE_TTL", default: .seconds(10))
        let rateWait = try environment.duration("RATE_LIMIT_MAX_WAIT", default: .seconds(1))
        let depthInterval = try environment.duration("DLQ_DEPTH_INTERVAL", default: .seconds(30))
        var logger = Logger(label: definition.name)
        logger[metadataKey: LogKeys.worker] = "\(definition.name)"
        logger[metadataKey: LogKeys.group] = "\(configuration.group)"
        let runLogger = logger
        let labeledMetrics = MetricsBootstrap.shared()
        logger.info("opening store", metadata: ["database": "\(location)"])

        return try await Store.withStore(location, logger: logger, migrate: false, reachableWithin: .seconds(60)) { store in
            try await migrate(store, logger: runLogger)
            try await verifySecretKey(store, box)
            let http = HTTPClient(metrics: labeledMetrics, logger: runLogger)
            let accounts = AccountDirectory(
                store: store, box: box, http: http, limiter: StoreRateLimiter(store: store, metrics: labeledMetrics),
                ttl: accountCacheTTL, maximumRateWait: rateWait
            )
            let context = WorkerContext(
                environment: environment, configuration: configuration, logger: runLogger, store: store, accounts: accounts, metrics: labeledMetrics
            )
            let handler = try await definition.makeHandler(context)
            let producer = try KafkaProducer(settings: configuration.kafka, clientId: "\(definition.name)-producer", logger: runLogger)
            let workerMetrics = WorkerMetrics(group: configuration.group, metrics: labeledMetrics)
            let worker = ConsumerWorker(
                configuration: configuration, handler: handler, ledger: store, parking: store, producer: producer,
                metrics: workerMetrics, logger: runLogger
            )
            let depth = DeadLetterDepthReporter(
                settings: configuration.kafka, deadLetterTopics: configuration.sourceTopics.map(configuration.topology.deadLetterTopic),
                metrics: workerMetrics, interval: depthInterval, logger: runLogger
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
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: server), .init(service: LedgerJanitor(store: store, retention: retention, logger: runLogger)), .init(service: depth)]
                    + definition.makeServices(context).map { .init(service: $0) }
                    + [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
                logger: runLogger
            ))
            let bound = configuration.shutdownTimeout
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                tasks.addTask { await watchSignals(group: group, bound: bound, logger: runLogger) }
                try await tasks.next()
                tasks.cancelAll()
            }
            await http.shutdown()
            runLogger.info("stopped")
            return 0
        }
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
            throw ConfigurationError(setting: "SWITCHBOARD_SECRET_KEY", reason: "cannot decrypt the credentials of account \(account.id); is this the key they were stored with?")
        }
    }

    private static func watchSignals(group: ServiceGroup, bound: Duration, logger: Logger) async {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        var received = 0
        for await signal in signals {
            received += 1
            if received == 1 {
                logger.notice("\(signal) received: shutting down gracefully (a second signal exits immediately)")
                startWatchdog(after: bound + .seconds(5), logger: logger)
                await group.triggerGracefulShutdown()
            } else {
                logger.warning("second signal: exiting now without committing unfinished work")
                _exit(130)
            }
        }
    }

    /// A last resort off the cooperative pool: if shutdown hangs (brokers unreachable), exit anyway.
    private static func startWatchdog(after bound: Duration, logger: Logger) {
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(bound.milliseconds))) {
            logger.critical("shutdown exceeded its bound; exiting without committing unfinished work")
            _exit(1)
        }
    }
}
