import Foundation
import SwitchboardJSON

/// Gorgias datetimes: ISO 8601, sometimes without a zone (documentation examples, to be read as UTC), sometimes
/// with `+00:00` and microseconds.
public enum GorgiasDate {
    public static func parse(_ text: String) -> Date? {
        if let date = RFC3339.parse(text) { return date }
        return RFC3339.parse(text + "Z")
    }
}
