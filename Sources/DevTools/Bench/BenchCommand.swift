import ArgumentParser

/// `switchboard-dev bench …`: benchmarks (never timed tests). Build with `-c release` for meaningful figures.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: run with `swift run -c release switchboard-dev bench <name>`.",
        subcommands: [
            RuntimeBenchCommand.self, HTTPBenchCommand.self, StoreBenchCommand.self, E2EBenchCommand.self,
            ConsentBenchCommand.self, RecoveryBenchCommand.self,
        ]
    )
}
