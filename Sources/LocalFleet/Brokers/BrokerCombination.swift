import Foundation
import SwitchboardKafka

/// A broker and a librdkafka the suites and benchmarks run on (README: Compatibility): librdkafka's mock cluster with
/// the system's librdkafka (Debian 12: 2.0.2), Tansu with librdkafka 2.16, and the mock cluster with 2.16. The
/// library is chosen per process through `LD_LIBRARY_PATH` (see ``KafkaCompat``); the broker through
/// `SWITCHBOARD_TEST_BROKER`.
public struct BrokerCombination: Sendable, Hashable, CustomStringConvertible {
    public var broker: LocalBroker.Kind
    /// Whether processes load librdkafka 2.16 from ``KafkaCompat/librdkafkaDirectory`` instead of the system's.
    public var currentLibrary: Bool

    public static let mockSystem = BrokerCombination(broker: .mock, currentLibrary: false)
    public static let tansuCurrent = BrokerCombination(broker: .tansu, currentLibrary: true)
    public static let mockCurrent = BrokerCombination(broker: .mock, currentLibrary: true)
    public static let all = [mockSystem, tansuCurrent, mockCurrent]

    /// `mock-system`, `tansu-2.16`, `mock-2.16`.
    public var name: String { "\(broker.rawValue)-\(currentLibrary ? "2.16" : "system")" }
    public var description: String { name }

    public init(broker: LocalBroker.Kind, currentLibrary: Bool) {
        self.broker = broker
        self.currentLibrary = currentLibrary
    }

    public init?(name: String) {
        guard let match = Self.all.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// The combination this process runs: its broker from the environment, its library from what it loaded.
    public static var current: BrokerCombination {
        BrokerCombination(broker: .fromEnvironment, currentLibrary: Librdkafka.version.hasPrefix("2.16"))
    }

    /// The variables that make a child process (and the workers it starts) run this combination.
    public var environment: [String: String] {
        var values = ["SWITCHBOARD_TEST_BROKER": broker.rawValue]
        if currentLibrary { values["LD_LIBRARY_PATH"] = KafkaCompat.librdkafkaDirectory }
        return values
    }

    /// `ProcessInfo`'s environment with this combination's variables (and without the other library's path).
    public var processEnvironment: [String: String] {
        var values = ProcessInfo.processInfo.environment
        values["LD_LIBRARY_PATH"] = nil
        return values.merging(environment) { _, new in new }
    }
}
