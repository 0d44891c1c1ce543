import ArgumentParser
import Logging
import ServiceLifecycle
import UnixSignals
import Ingress
import OperatorKit
import SwitchboardBase
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardKafka
import SwitchboardObservability
import SwitchboardStore
import WorkerKit

/// `switchboard-ingress`: the webhook receiver that feeds the topics (Twilio inbound and status webhooks, Gorgias'
/// HTTP integration) and Gorgias OAuth's callback. Stateless; run as many replicas as you like behind a load balancer.
@main
struct IngressService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-ingress",
        abstract: "Receive provider webhooks and produce them as events until SIGTERM.",
        discussion: """
            Needs KAFKA_BROKERS, DATABASE_URL and SWITCHBOARD_SECRET_KEY like the workers. Routes: \
            POST /twilio/inbound/<account>, POST /twilio/status/<account> (X-Twilio-Signature checked against the \
            public URL), POST /gorgias/events/<account> (per-account secret), GET /healthz.
            """
    )

    @Option(help: "Address to listen on (any address but loopback needs --public-url).") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(
        help:
            "The public base URL providers call (Twilio signs it); default: from the Host header, or a trusted proxy's X-Forwarded-* headers."
    )
    var publicUrl: String?
    @Option(
        name: .customLong("trusted-proxy"),
        help: "Address or CIDR block of a reverse proxy whose X-Forwarded-Proto/Host count (repeatable).")
    var trustedProxies: [String] = []
    @Option(help: "Most connections open at once.") var maxConnections = 1024
    @Option(help: "Close a connection idle this long (e.g. 30s).") var idleTimeout = "30s"
    @Option(help: "Refuse a request whose body has not arrived within this long (e.g. 10s).") var readTimeout = "10s"

    private static func duration(_ text: String, _ setting: String) throws -> Duration {
        guard let duration = DurationText.parse(text), duration > .zero else {
            throw ConfigurationError(
                setting: setting, reason: "\(text) is not a positive duration like 500ms, 10s or 1m")
        }
        return duration
    }

    static func main() async { await runExitingOnConfigurationError() }

    func run() async throws {
        let environment = try Environment.load()
        guard maxConnections > 0 else {
            throw ConfigurationError(setting: "--max-connections", reason: "must be at least 1")
        }
        try LoggingSetup.bootstrap(environment)
        let logger = Logger(label: "switchboard-ingress")
        let settings = try KafkaSettings.from(environment)
        let box = try SecretBox.from(environment)
        var configuration = {
            var configuration = IngressServer.Configuration()
            configuration.host = host
            configuration.port = port
            configuration.publicURL = publicUrl
            configuration.trustedProxies = trustedProxies
            configuration.maximumConnections = maxConnections
            return configuration
        }()
        configuration.idleTimeout = try Self.duration(idleTimeout, "--idle-timeout")
        configuration.readTimeout = try Self.duration(readTimeout, "--read-timeout")
        try configuration.validate()
        let settled = configuration
        let traces = try TracingBackend.start(
            serviceName: "switchboard-ingress", environment: environment, logger: logger)
        try await Store.withStore(try DatabaseURL.from(environment), logger: logger, migrate: false) { store in
            let http = HTTPClient(logger: logger)
            let producer = try KafkaProducer(settings: settings, clientId: "switchboard-ingress", logger: logger)
            let oauthApp = try GorgiasOAuthApp.from(environment)
            let accounts = AccountDirectory(
                store: store, box: box, http: http, limiter: UnlimitedRateLimiter(), oauthApp: oauthApp)
            let server = IngressServer(
                configuration: settled, accounts: accounts, producer: producer, receipts: store, logger: logger,
                oauth: oauthApp.map { OAuthConnect(app: $0, store: store, box: box, http: http, logger: logger) })
            let group = ServiceGroup(
                configuration: .init(
                    services: (traces.map { [$0] } ?? []).map { .init(service: $0) } + [.init(service: server)],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            await producer.shutdown()
            await http.shutdown()
        }
    }
}
