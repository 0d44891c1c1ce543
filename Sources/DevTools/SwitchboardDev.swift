import ArgumentParser
import OperatorKit

/// Developer tools: the whole fleet on this machine with a scripted scenario, the benchmarks, the provider sandbox
/// and the embedded broker. They link the sandbox, librdkafka's mock cluster and the test fakes, so they are never
/// part of a deployment.
@main
struct SwitchboardDev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-dev",
        abstract: "Run Switchboard locally: the fleet with a scenario, benchmarks, the sandbox, the embedded broker.",
        subcommands: [DevCommand.self, BenchCommand.self, SandboxCommand.self, BrokerCommand.self],
        defaultSubcommand: DevCommand.self
    )

    static func main() async { await runExitingOnConfigurationError() }
}
