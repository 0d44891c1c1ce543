import Foundation

/// Writes a line to stdout immediately (machine-read lines such as `KAFKA_BROKERS=…` must not sit in a buffer).
public enum StandardOutput {
    public static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}

/// Writes a line to stderr (progress and diagnostics, never mixed into machine-read stdout).
public enum StandardError {
    public static func line(_ text: String) {
        write(text + "\n")
    }

    public static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
