import Synchronization

/// Whether this process exports traces. Set once at start by `TracingBackend.start`; read on every record, API call
/// and store statement, which skip span creation entirely while it is off (the default), so tracing off costs one
/// relaxed load.
public enum TracingSwitch {
    private static let enabled = Atomic<Bool>(false)

    public static var isOn: Bool { enabled.load(ordering: .relaxed) }

    /// Turns tracing on for the rest of the process.
    public static func turnOn() { enabled.store(true, ordering: .relaxed) }
}
