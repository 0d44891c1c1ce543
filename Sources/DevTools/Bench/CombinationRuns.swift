import Foundation
import LocalFleet
import OperatorKit

/// Runs a benchmark on several broker combinations in one invocation: the combination this process already runs is
/// measured here; each other one in a child `switchboard` with that combination's environment (another
/// `LD_LIBRARY_PATH` needs another process), which prints its result as one JSON line on stdout.
enum CombinationRuns {
    /// The combinations named by `names` (`all`, or `mock-system`, `tansu-2.16`, `mock-2.16`).
    static func parse(_ names: [String]) throws -> [BrokerCombination] {
        if names == ["all"] { return BrokerCombination.all }
        return try names.flatMap { $0.split(separator: ",").map(String.init) }.map { name in
            guard let combination = BrokerCombination(name: name) else {
                throw BenchmarkError(
                    "unknown combination \(name); use all, \(BrokerCombination.all.map(\.name).joined(separator: ", "))"
                )
            }
            return combination
        }
    }

    /// Each combination's result: `here` for the current one, a child for the others (`childArguments` plus
    /// `--on <name> --result-line`; the child's progress goes to this stderr).
    static func run<Result: Codable>(
        _ combinations: [BrokerCombination], childArguments: [String], here: () async throws -> Result
    ) async throws -> [(BrokerCombination, Result)] {
        var results: [(BrokerCombination, Result)] = []
        for combination in combinations {
            if combination == .current {
                results.append((combination, try await here()))
                continue
            }
            StandardError.line(
                "[\(combination)] in a child process (librdkafka \(combination.currentLibrary ? "2.16" : "of the system"))…"
            )
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            process.arguments = childArguments + ["--on", combination.name, "--result-line"]
            process.environment = combination.processEnvironment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.standardError
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0,
                let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last
            else {
                throw BenchmarkError("the \(combination) run failed (exit \(process.terminationStatus))")
            }
            results.append((combination, try JSONDecoder().decode(Result.self, from: Data(line.utf8))))
        }
        return results
    }

    /// Prints `result` as the one JSON line a parent reads.
    static func printResultLine<Result: Encodable>(_ result: Result) throws {
        StandardOutput.line(String(decoding: try JSONEncoder().encode(result), as: UTF8.self))
    }
}
