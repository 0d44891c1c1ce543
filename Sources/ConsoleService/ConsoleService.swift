import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import OperatorKit
import SwitchboardWeb
import SwitchboardBase
import SwitchboardRuntime
import SwitchboardStore

/// `switchboard-console`: a small web console over what the CLI reads (lag, merchants and their health, the DLQ,
/// the trace), behind a bearer token. Its own service, not a page of the ingress: the ingress faces the internet
/// (providers' webhooks, merchants' OAuth), the console only the operators' network, and each is scaled and exposed
/// on its own.
@main
struct ConsoleService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-console",
        abstract: "A web console: the fleet's lag, the merchants' health, the DLQ and trace lookups, behind a token.",
        discussion: """
            Needs SWITCHBOARD_CONSOLE_TOKEN (at least 24 characters): send it as `Authorization: Bearer …`, or sign in \
            once at /login (an HttpOnly, SameSite=Strict cookie). It reads the store and the brokers like the CLI \
            does; the only change it makes is a DLQ redrive (dry run by default, at a rate), as `dlq redrive`.
            """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port (0 picks a free one; the URL is printed).") var port = 8090

    @OptionGroup var store: StoreOptions
    @OptionGroup var kafka: KafkaOptions

    static func main() async { await runExitingOnConfigurationError() }

    func run() async throws {
        let environment = try CLIEnvironment.load()
        guard let token = environment["SWITCHBOARD_CONSOLE_TOKEN"], token.count >= 24 else {
            throw ConfigurationError(
                setting: "SWITCHBOARD_CONSOLE_TOKEN", reason: "required, at least 24 characters (openssl rand -hex 16)")
        }
        let reader = try kafka.reader(environment)
        let reviewReader = try kafka.reader(environment, group: FleetRoster.deadLetterReviewGroup)
        let settings = try kafka.settings(environment)
        let topology = try kafka.topology(environment)
        let (host, port) = (self.host, self.port)
        try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) { store in
            let server = ConsoleServer(
                host: host, port: port, token: token,
                sources: ConsoleSources(
                    store: store, reader: reader, reviewReader: reviewReader, settings: settings, topology: topology),
                // Secure off loopback: a console on 127.0.0.1 is reached over plain HTTP (behind TLS anywhere else).
                sessions: WebSessions(
                    surface: "console", store: store,
                    secureCookie: !["127.0.0.1", "::1", "localhost"].contains(host)),
                throttle: SignInThrottle(), logger: CLIEnvironment.logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: CLIEnvironment.logger))
            try await group.run()
        }
    }
}
