import Foundation

/// Faults that process-level tests switch on through `SWITCHBOARD_FAILPOINT_<NAME>` variables. Compiled into debug
/// builds only: a release build ignores the variables.
enum Failpoint {
    /// A fatal consumer error this many seconds after the consumer starts (`FatalErrorTests`).
    static let fatalKafkaAfter = "FATAL_KAFKA_AFTER"
    /// A graceful shutdown that takes this many seconds longer (`ProcessLifecycleTests`).
    static let slowShutdown = "SLOW_SHUTDOWN"

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
