internal import Crdkafka

/// The librdkafka this process loaded (which may not be the one it was built against: `LD_LIBRARY_PATH` can point
/// at another `librdkafka.so.1`, as the compatibility runs do).
public enum Librdkafka {
    public static var version: String { String(cString: rd_kafka_version_str()) }
}
