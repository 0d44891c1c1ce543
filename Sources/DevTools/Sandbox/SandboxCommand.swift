import ArgumentParser
import Logging
import ServiceLifecycle
import UnixSignals
import Sandbox
import SwitchboardDomain
import OperatorKit

/// `switchboard-dev sandbox`: local Gorgias and Twilio stand-ins, following their documented contracts.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a local sandbox of the Gorgias and Twilio APIs until SIGTERM.",
        discussion: """
            Prints exactly one line on stdout when ready: SANDBOX_URL=http://127.0.0.1:<port>. Gorgias account <sub> \
            is served at $SANDBOX_URL/gorgias/<sub> and Twilio at $SANDBOX_URL/twilio; accounts are registered with \
            --gorgias-account/--twilio-account or the control routes (--auto-create-accounts: on first use). Browse $SANDBOX_URL/ to see tickets and SMS. Faults can also be changed later with \
            POST $SANDBOX_URL/sandbox/faults.
            """
    )

    @Option(help: "Port (0 picks a free one).") var port = 0
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Latency added to every API response, in ms.") var latencyMs = 0
    @Option(help: "Fraction of API requests answered with 503.") var failRate = 0.0
    @Option(help: "Answer the next N API requests with 429.") var burst429 = 0
    @Option(help: "Stall every Nth API request (0: never).") var stallEvery = 0
    @Option(help: "How long a stall lasts, in ms.") var stallMs = 2000
    @Option(help: "Fraction of API responses whose connection is dropped mid-response (after the effect).")
    var dropRate = 0.0
    @Option(help: "Fraction of webhooks delivered twice.") var duplicateWebhooks = 0.0
    @Option(help: "Random delay up to this many ms on webhooks (reorders them).") var webhookJitterMs = 0
    @Option(help: "Delay between an SMS send and each status callback, in ms.") var callbackDelayMs = 50
    @Option(help: "Messages per second each sender sends (Twilio's queue; 0: none).") var smsPerSecond = 1.0
    @Flag(help: "Create unknown Gorgias and Twilio accounts on first use, with the credentials used.")
    var autoCreateAccounts = false
    @Option(help: "Keep state in this file across restarts.") var stateFile: String?
    @Option(help: "Pre-create a Gorgias account: subdomain:email:apikey (repeatable).") var gorgiasAccount: [String] =
        []
    @Option(help: "Pre-create a Twilio account: AccountSid:authtoken (repeatable).") var twilioAccount: [String] = []
    @Option(help: "Make deliveries to a number fail: +E164:errorcode, e.g. +15550000000:30003 (repeatable).")
    var undeliverable: [String] = []

    func run() async throws {
        _ = try CLIEnvironment.load()
        let server = try SandboxServer(configuration: try makeConfiguration(), logger: CLIEnvironment.logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: CLIEnvironment.logger
            ))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let url = await server.url()
            StandardOutput.line("SANDBOX_URL=\(url)")
            StandardError.line(
                "sandbox ready: Gorgias at \(url)/gorgias/<subdomain>, Twilio at \(url)/twilio, page at \(url)/")
            try await tasks.waitForAll()
        }
    }

    func makeConfiguration() throws -> SandboxConfiguration {
        var configuration = SandboxConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.stateFile = stateFile
        configuration.callbackDelayMs = callbackDelayMs
        configuration.autoCreateAccounts = autoCreateAccounts
        configuration.faults.smsPerSecondPerSender = smsPerSecond
        configuration.faults.latencyMs = latencyMs
        configuration.faults.failRate = failRate
        configuration.faults.burst429 = burst429
        configuration.faults.stallEvery = stallEvery
        configuration.faults.stallMs = stallMs
        configuration.faults.dropRate = dropRate
        configuration.faults.duplicateWebhookRate = duplicateWebhooks
        configuration.faults.webhookJitterMs = webhookJitterMs
        for seed in gorgiasAccount {
            let parts = seed.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count == 3 else { throw ValidationError("--gorgias-account expects subdomain:email:apikey") }
            configuration.gorgiasAccounts.append(
                GorgiasAccountSeed(subdomain: parts[0], email: parts[1], apiKey: parts[2]))
        }
        for seed in twilioAccount {
            let parts = seed.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--twilio-account expects AccountSid:authtoken") }
            configuration.twilioAccounts.append(TwilioAccountSeed(accountSid: parts[0], authToken: parts[1]))
        }
        for rule in undeliverable {
            guard let colon = rule.lastIndex(of: ":"), let code = Int(rule[rule.index(after: colon)...]),
                PhoneNumber.isE164(String(rule[..<colon]))
            else {
                throw ValidationError("--undeliverable expects +E164:errorcode")
            }
            configuration.undeliverable[String(rule[..<colon])] = code
        }
        guard (0...1).contains(failRate), (0...1).contains(dropRate), (0...1).contains(duplicateWebhooks) else {
            throw ValidationError("rates must be between 0 and 1")
        }
        return configuration
    }
}
