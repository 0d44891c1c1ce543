import Foundation
import SwitchboardBase

/// Kafka connection settings: `KAFKA_BROKERS` plus any `KAFKA_<PROPERTY>` librdkafka property
/// (`KAFKA_SECURITY_PROTOCOL` → `security.protocol`, `KAFKA_SASL_PASSWORD` → `sasl.password`).
///
/// Values are never logged: SASL and SSL settings may hold secrets.
public struct KafkaSettings: Sendable {
    /// One librdkafka property and the variable it came from (for error messages).
    public struct Property: Sendable, Hashable {
        public var name: String
        public var value: String
        public var source: String

        public init(name: String, value: String, source: String) {
            self.name = name
            self.value = value
            self.source = source
        }
    }

    public var bootstrapServers: String
    public var properties: [Property]

    public init(bootstrapServers: String, properties: [Property] = []) {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
    }

    /// Variables starting with `KAFKA_` that are Switchboard's own rather than librdkafka properties.
    static let reservedVariables: Set<String> = ["KAFKA_BROKERS"]

    /// Reads `KAFKA_BROKERS` (required unless a default is given) and the `KAFKA_<PROPERTY>` passthrough.
    public static func from(_ environment: Environment, defaultBrokers: String? = nil) throws -> KafkaSettings {
        guard let brokers = environment["KAFKA_BROKERS"] ?? defaultBrokers else {
            throw ConfigurationError(
                setting: "KAFKA_BROKERS",
                reason: "not set; give the bootstrap list, e.g. KAFKA_BROKERS=127.0.0.1:9092"
            )
        }
        guard brokers.split(separator: ",").allSatisfy({ $0.contains(":") }) else {
            throw ConfigurationError(
                setting: "KAFKA_BROKERS", reason: "expected host:port[,host:port...], got \"\(brokers)\"")
        }
        let properties = environment.values.keys.sorted().compactMap { variable -> Property? in
            guard variable.hasPrefix("KAFKA_"), !reservedVariables.contains(variable),
                let value = environment[variable]
            else { return nil }
            let name = variable.dropFirst("KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            return Property(name: name, value: value, source: variable)
        }
        return KafkaSettings(bootstrapServers: brokers, properties: properties)
    }

    /// The passthrough properties' names (never values), for start-up logs.
    public var propertyNames: [String] { properties.map(\.name) }
}

extension KafkaSettings.Property: CustomStringConvertible, CustomDebugStringConvertible {
    /// Whether the property's name says it holds a credential (`sasl.password`, `ssl.key.password`, …).
    public static func isSensitive(_ name: String) -> Bool {
        ["password", "secret", "key", "token", "jaas", "sasl.oauthbearer.config"].contains { name.contains($0) }
    }

    public var description: String { "\(name)=\(Self.isSensitive(name) ? "***" : value)" }
    public var debugDescription: String { description }
}

/// Rendered with credentials masked: services holding settings are described in lifecycle debug logs.
extension KafkaSettings: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "KafkaSettings(\(bootstrapServers), \(properties.map(\.description).joined(separator: ", ")))"
    }
    public var debugDescription: String { description }
}
