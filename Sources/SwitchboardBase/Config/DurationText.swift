import Foundation

/// Parses and prints the short duration syntax used in configuration and topic names (`250ms`, `30s`, `5m`, `1h`).
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, millis) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            if let value = Int64(number) { return .milliseconds(value * millis) }
            if let value = Double(number) { return .milliseconds(Int64(value * Double(millis))) }
            return nil
        }
        return Double(trimmed).map { .milliseconds(Int64($0 * 1000)) }
    }

    /// The shortest exact rendering: `30s`, `5m`, `1h`, `1500ms`.
    public static func format(_ duration: Duration) -> String {
        let millis = duration.milliseconds
        for (suffix, unit) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1000)]
        where millis >= unit && millis % unit == 0 {
            return "\(millis / unit)\(suffix)"
        }
        return "\(millis)ms"
    }
}

extension Duration {
    /// Whole milliseconds, truncated.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as a floating-point value.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
