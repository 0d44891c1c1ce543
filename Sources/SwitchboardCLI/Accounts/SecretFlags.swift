import Shared

/// The account secrets a command takes as a flag or, better, from the environment.
enum SecretFlags {
    /// The value of each secret: the flag's, else the environment variable's. Warns for every secret given as a flag.
    static func resolve(_ secrets: [(flag: String, value: String?, variable: String)], environment: Environment)
        -> [String: String]
    {
        var values: [String: String] = [:]
        for (flag, value, variable) in secrets {
            if value != nil {
                // A flag's value shows in `ps` and the shell's history while and after the command runs.
                StandardError.line(
                    "warning: \(flag) is visible to other users in the process list and in shell history; set $\(variable) instead"
                )
            }
            if let resolved = value ?? environment[variable] { values[variable] = resolved }
        }
        return values
    }
}
