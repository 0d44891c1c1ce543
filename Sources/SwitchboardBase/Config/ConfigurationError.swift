/// Invalid configuration, naming the setting so an operator can fix it. Never carries a secret value.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The environment variable or flag at fault, e.g. `KAFKA_BROKERS`.
    public var setting: String
    public var reason: String

    public init(setting: String, reason: String) {
        self.setting = setting
        self.reason = reason
    }

    public var description: String { "invalid configuration: \(setting): \(reason)" }
}
