import Foundation

/// Faults that process-level tests switch on through `SWITCHBOARD_FAILPOINT_<NAME>` variables. Compiled into debug
/// builds only: a release build ignores the variables.
public enum Failpoint {
    /// A fatal consumer error this many seconds after the consumer starts (`FatalErrorTests`).
    static let fatalKafkaAfter = "FATAL_KAFKA_AFTER"
    /// A graceful shutdown that takes this many seconds longer (`ProcessLifecycleTests`).
    static let slowShutdown = "SLOW_SHUTDOWN"
    /// Merchant notices may be posted to a webhook on this machine's loopback (the tests' receiver).
    public static let loopbackNotices = "LOOPBACK_NOTICES"

    /// Whether the failpoint is switched on (`=1`; debug builds only).
    public static func isOn(_ name: String) -> Bool {
        #if DEBUG
            ProcessInfo.processInfo.environment["SWITCHBOARD_FAILPOINT_\(name)"] == "1"
        #else
            false
        #endif
    }

    /// The failpoint's duration, when it is set (debug builds only).
    static func duration(_ name: String) -> Duration? {
        #if DEBUG
            ProcessInfo.processInfo.environment["SWITCHBOARD_FAILPOINT_\(name)"].flatMap(Double.init).map {
                .milliseconds(Int64($0 * 1000))
            }
        #else
            nil
        #endif
    }
}
