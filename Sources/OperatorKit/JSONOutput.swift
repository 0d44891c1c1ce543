import Foundation

/// Prints Encodable values as JSON on stdout (sorted keys, for stable script output).
public enum JSONOutput {
    public static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        StandardOutput.line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// One compact line, for output a script reads line by line.
    public static func line<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        StandardOutput.line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
