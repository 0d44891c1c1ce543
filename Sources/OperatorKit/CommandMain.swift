import ArgumentParser
import Foundation
import SwitchboardBase

extension AsyncParsableCommand {
    /// Parses and runs the command line; invalid configuration exits 78 (EX_CONFIG) naming the setting, like the
    /// workers.
    public static func runExitingOnConfigurationError() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigurationError {
            StandardError.line("\(configuration.commandName ?? "switchboard"): \(error)")
            Foundation.exit(78)
        } catch {
            exit(withError: error)
        }
    }
}
