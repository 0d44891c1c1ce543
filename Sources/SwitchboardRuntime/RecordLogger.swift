import Logging
import SwitchboardKafka
import SwitchboardObservability

/// A record's logging context. The `Logger` with event id, topic, partition, offset and account id is built only
/// when something logs: building metadata for every record costs more than handling a no-op record.
public struct RecordLogger: Sendable {
    let base: Logger
    let topic: String
    let partition: Int32
    let offset: Int64
    var eventId: String?
    var accountId: String?

    init(base: Logger, record: KafkaRecord) {
        self.base = base
        self.topic = record.topic
        self.partition = record.partition
        self.offset = record.offset
    }

    /// The logger carrying this record's metadata.
    public var logger: Logger {
        var logger = base
        logger[metadataKey: LogKeys.topic] = "\(topic)"
        logger[metadataKey: LogKeys.partition] = "\(partition)"
        logger[metadataKey: LogKeys.offset] = "\(offset)"
        if let eventId { logger[metadataKey: LogKeys.eventId] = "\(eventId)" }
        if let accountId { logger[metadataKey: LogKeys.accountId] = "\(accountId)" }
        return logger
    }
}
