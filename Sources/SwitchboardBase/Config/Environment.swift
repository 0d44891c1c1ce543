import Foundation

/// Typed access to configuration variables: the process environment, over an optional
/// `KEY=VALUE` file named by `SWITCHBOARD_CONFIG` (the environment wins).
///
/// Every accessor throws a ``ConfigurationError`` naming the variable when a value is malformed.
public struct Environment: Sendable {
    public var values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
    }

    /// The process environment merged over the file named by `SWITCHBOARD_CONFIG`, if set.
    public static func load(processEnvironment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> Environment
    {
        var merged: [String: String] = [:]
        if let path = processEnvironment["SWITCHBOARD_CONFIG"], !path.isEmpty {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError(setting: "SWITCHBOARD_CONFIG", reason: "cannot read file \(path)")
            }
            merged = try parseFile(text, path: path)
        }
        merged.merge(processEnvironment) { _, process in process }
        return Environment(merged)
    }

    static func parseFile(_ text: String, path: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(
                    setting: "SWITCHBOARD_CONFIG", reason: "\(path):\(number + 1): expected KEY=VALUE")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.first == "\"", value.last == "\"" {
                value = String(value.dropFirst().dropLast())
            }
            result[key] = value
        }
        return result
    }

    public subscript(name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    public func string(_ name: String, default defaultValue: String) -> String {
        self[name] ?? defaultValue
    }

    public func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = self[name] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(
                setting: name,
                reason: "expected an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\""
            )
        }
        return value
    }

    public func double(_ name: String, default defaultValue: Double, range: ClosedRange<Double>) throws -> Double {
        guard let text = self[name] else { return defaultValue }
        guard let value = Double(text), range.contains(value) else {
            throw ConfigurationError(setting: name, reason: "expected a number in \(range), got \"\(text)\"")
        }
        return value
    }

    public func bool(_ name: String, default defaultValue: Bool) throws -> Bool {
        guard let text = self[name]?.lowercased() else { return defaultValue }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(setting: name, reason: "expected true or false, got \"\(text)\"")
        }
    }

    /// A duration such as `250ms`, `30s`, `5m`, `1h` (a bare number is seconds).
    public func duration(_ name: String, default defaultValue: Duration) throws -> Duration {
        guard let text = self[name] else { return defaultValue }
        guard let value = DurationText.parse(text), value >= .zero else {
            throw ConfigurationError(
                setting: name, reason: "expected a duration like 250ms, 30s, 5m or 1h, got \"\(text)\"")
        }
        return value
    }

    /// A comma-separated list, trimmed, empty entries dropped.
    public func list(_ name: String) -> [String]? {
        self[name].map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }
}
