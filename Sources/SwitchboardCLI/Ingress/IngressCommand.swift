import ArgumentParser
import Ingress
import Logging
import ServiceLifecycle
import Shared
import UnixSignals

/// `switchboard ingress`: the webhook receiver that feeds the topics (Twilio inbound and status webhooks, Gorgias'
/// HTTP integration). Stateless; run as many replicas as you like behind a load balancer.
struct IngressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingress",
        abstract: "Receive provider webhooks and produce them as events until SIGTERM.",
        discussion: """
            Needs KAFKA_BROKERS, DATABASE_URL and SWITCHBOARD_SECRET_KEY like the workers. Routes: \
            POST /twilio/inbound/<account>, POST /twilio/status/<account> (X-Twilio-Signature checked against the \
            public URL), POST /gorgias/events/<account> (per-account secret), GET /healthz.
            """
    )

    @Option(help: "Address to listen on.") var host = "0.0.0.0"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(help: "The public base URL providers call (Twilio signs it); default: from the Host header.") var publicUrl: String?

    func run() async throws {
        let environment = try Environment.load()
        try LoggingSetup.bootstrap(environment)
        let logger = Logger(label: "switchboard-ingress")
        let settings = try KafkaSettings.from(environment)
        let box = try SecretBox.from(environment)
        let configuration = {
            var configuration = IngressServer.Configuration()
            configuration.host = host
            configuration.port = port
            configuration.publicURL = publicUrl
            return configuration
        }()
        try await Store.withStore(try DatabaseURL.from(environment), logger: logger, migrate: false) { store in
            let http = HTTPClient(logger: logger)
            let producer = try KafkaProducer(settings: settings, clientId: "switchboard-ingress", logger: logger)
            let accounts = AccountDirectory(store: store, box: box, http: http, limiter: UnlimitedRateLimiter())
            let server = IngressServer(configuration: configuration, accounts: accounts, producer: producer, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            await producer.shutdown()
            await http.shutdown()
        }
    }
}
