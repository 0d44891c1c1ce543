internal import Crdkafka

/// An error reported by librdkafka, carried without exposing the C types. Callers match ``code`` against the named
/// ``Code`` constants.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    /// librdkafka's `rd_kafka_resp_err_t`, typed: its name and text come from librdkafka itself.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32

        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// A failure outside any librdkafka code (a handle that could not be made, an answer that never came).
        public static let unknown = Code(rawValue: -1)
        public static let queueFull = Code(rawValue: RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue)
        public static let timedOut = Code(rawValue: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue)
        public static let fatal = Code(rawValue: RD_KAFKA_RESP_ERR__FATAL.rawValue)

        /// librdkafka's name for the code, e.g. `REBALANCE_IN_PROGRESS`.
        public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: rawValue))) }
        /// librdkafka's text for the code.
        public var reason: String { String(cString: rd_kafka_err2str(rd_kafka_resp_err_t(rawValue: rawValue))) }
        public var description: String { "\(name) (\(rawValue))" }

        /// Conditions that go away on their own: a full local queue, timeouts, transport trouble, and the broker
        /// answers Kafka marks retriable around leadership, coordinators and rebalances.
        public var isRetriable: Bool { Self.retriable.contains(rawValue) }

        private static let retriable: Set<Int32> = [
            RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT,
            RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
            RD_KAFKA_RESP_ERR__WAIT_COORD, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
            RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
        ].reduce(into: Set<Int32>()) { $0.insert($1.rawValue) }
    }

    public var code: Code
    public var reason: String
    /// Retrying may help (librdkafka's own verdict where it gives one, else ``Code/isRetriable``).
    public var isRetriable: Bool
    /// The client is unusable: the process must stop and be restarted (a fenced producer, a fatal consumer error).
    public var isFatal: Bool
    public var file: String
    public var line: Int

    public init(
        code: Code, reason: String, isRetriable: Bool? = nil, isFatal: Bool = false, file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.reason = reason
        self.isRetriable = !isFatal && (isRetriable ?? code.isRetriable)
        self.isFatal = isFatal
        self.file = file
        self.line = line
    }

    /// An error for a librdkafka result code, with librdkafka's text after `context`.
    init(
        _ result: rd_kafka_resp_err_t, _ context: String, fatal: Bool = false, file: String = #fileID, line: Int = #line
    ) {
        let code = Code(rawValue: result.rawValue)
        self.init(code: code, reason: "\(context): \(code.reason)", isFatal: fatal, file: file, line: line)
    }

    /// An error from an `rd_kafka_error_t` (destroyed here), with librdkafka's own retriable and fatal flags.
    init(consuming error: OpaquePointer, _ context: String, file: String = #fileID, line: Int = #line) {
        defer { rd_kafka_error_destroy(error) }
        self.init(
            code: Code(rawValue: rd_kafka_error_code(error).rawValue),
            reason: "\(context): \(String(cString: rd_kafka_error_string(error)))",
            isRetriable: rd_kafka_error_is_retriable(error) != 0, isFatal: rd_kafka_error_is_fatal(error) != 0,
            file: file, line: line
        )
    }

    /// The fatal error librdkafka raised on `handle`: callbacks and consumed messages carry only the generic
    /// `_FATAL` code, and librdkafka keeps the original.
    static func fatal(on handle: OpaquePointer, file: String = #fileID, line: Int = #line) -> KafkaError {
        var text = [CChar](repeating: 0, count: 512)
        let original = rd_kafka_fatal_error(handle, &text, text.count)
        return KafkaError(
            code: Code(rawValue: original.rawValue), reason: CStringBuffer.string(text), isFatal: true, file: file,
            line: line)
    }

    public var description: String { "Kafka error \(code): \(reason)" }
}
