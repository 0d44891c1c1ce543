/// An error reported by librdkafka, carried without exposing the C types.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    /// librdkafka's `rd_kafka_resp_err_t` value.
    public var code: Int32
    public var reason: String
    /// True when librdkafka marks the error retriable or it is a transient transport condition.
    public var isRetriable: Bool
    public var file: String
    public var line: Int

    public init(code: Int32, reason: String, isRetriable: Bool = false, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.isRetriable = isRetriable
        self.file = file
        self.line = line
    }

    public var description: String { "Kafka error \(code): \(reason)" }

    /// Codes the runtime matches on, mirrored from rdkafka.h.
    public enum Code {
        public static let queueFull: Int32 = -184
        public static let msgTimedOut: Int32 = -192
        public static let transport: Int32 = -195
        public static let allBrokersDown: Int32 = -187
        public static let partitionEOF: Int32 = -191
        public static let state: Int32 = -172
        public static let noOffset: Int32 = -168
        public static let timedOut: Int32 = -185
        public static let unknownTopicOrPartition: Int32 = 3
        public static let notCoordinator: Int32 = 16
        public static let coordinatorNotAvailable: Int32 = 15
        public static let rebalanceInProgress: Int32 = 27
        public static let unknownMemberId: Int32 = 25
        public static let illegalGeneration: Int32 = 22
        public static let notLeaderForPartition: Int32 = 6
        public static let requestTimedOut: Int32 = 7
        public static let leaderNotAvailable: Int32 = 5
        public static let brokerNotAvailable: Int32 = 8
    }
}
