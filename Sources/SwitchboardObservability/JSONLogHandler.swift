import Foundation
import Logging
import Synchronization
import SwitchboardBase
import SwitchboardJSON

/// Writes one JSON object per line to stderr: `{"ts","level","logger","msg",…metadata}`. Used when stderr is not a
/// terminal (containers) or `LOG_FORMAT=json`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private static let output = Mutex(FileHandle.standardError)

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: JSONValue] = [
            "ts": .string(RFC3339.format(Date(), fractional: true)),
            "level": .string(event.level.rawValue),
            "logger": .string(label),
            "msg": .string(event.message.description),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            fields[key] = .string(value.description)
        }
        let line = JSONValue.object(fields).serialized() + "\n"
        Self.output.withLock { $0.write(Data(line.utf8)) }
    }
}

/// Bootstraps swift-log once per process: JSON lines off a terminal (or `LOG_FORMAT=json`), readable text on one;
/// level from `LOG_LEVEL` (default info).
public enum LoggingSetup {
    private static let done = Mutex(false)

    public static func bootstrap(_ environment: Environment) throws {
        let levelText = environment.string("LOG_LEVEL", default: "info").lowercased()
        guard let level = Logger.Level(rawValue: levelText) else {
            throw ConfigurationError(
                setting: "LOG_LEVEL", reason: "expected trace, debug, info, notice, warning, error or critical")
        }
        let format = environment.string("LOG_FORMAT", default: isatty(STDERR_FILENO) == 1 ? "text" : "json")
        guard ["json", "text"].contains(format) else {
            throw ConfigurationError(setting: "LOG_FORMAT", reason: "expected json or text")
        }
        let alreadyDone = done.withLock { done in
            defer { done = true }
            return done
        }
        guard !alreadyDone else { return }
        LoggingSystem.bootstrap { label in
            if format == "json" { return JSONLogHandler(label: label, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
