internal import Crdkafka
import Logging

/// Per-handle state that librdkafka's C callbacks reach through the handle opaque.
///
/// `@unchecked Sendable`: every stored property is immutable after init and itself thread-safe
/// (Logger is a value type, the closures are `@Sendable`); callbacks run on librdkafka threads.
final class RdKafkaHandleContext: @unchecked Sendable {
    let logger: Logger
    let onError: @Sendable (KafkaError, _ fatal: Bool) -> Void
    let onStatistics: @Sendable ([UInt8]) -> Void
    let onRebalance: (@Sendable (OpaquePointer, Int32, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> Void)?

    init(
        logger: Logger,
        onError: @escaping @Sendable (KafkaError, Bool) -> Void = { _, _ in },
        onStatistics: @escaping @Sendable ([UInt8]) -> Void = { _ in },
        onRebalance: (
            @Sendable (OpaquePointer, Int32, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> Void
        )? = nil
    ) {
        self.logger = logger
        self.onError = onError
        self.onStatistics = onStatistics
        self.onRebalance = onRebalance
    }

    /// Installs the log, error and statistics callbacks and this context as the handle opaque.
    /// The caller keeps `self` alive for as long as the handle exists.
    func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_log_cb(conf, rdkafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, rdkafkaErrorCallback)
        rd_kafka_conf_set_stats_cb(conf, rdkafkaStatsCallback)
        if onRebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf, rdkafkaRebalanceCallback)
        }
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> RdKafkaHandleContext? {
        opaque.map { Unmanaged<RdKafkaHandleContext>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// Creates an `rd_kafka_t`; `rd_kafka_new` takes ownership of `conf` only on success, so it is freed here otherwise.
func makeRdKafkaHandle(type: rd_kafka_type_t, conf: OpaquePointer) throws -> OpaquePointer {
    var errorText = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
        rd_kafka_conf_destroy(conf)
        throw KafkaError(code: .unknown, reason: "rd_kafka_new failed: \(CStringBuffer.string(errorText))")
    }
    return handle
}

private let rdkafkaLogCallback:
    @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
        handle, level, facility, message in
        guard let handle, let context = RdKafkaHandleContext.from(rd_kafka_opaque(handle)) else { return }
        let text = message.map { String(cString: $0) } ?? ""
        let facilityText = facility.map { String(cString: $0) } ?? ""
        // KAFKA_* passthrough is shared by consumer and producer on purpose; the other handle's notice is noise.
        let sharedPropertyNotice = facilityText == "CONFWARN" && text.contains("will be ignored by this")
        let logLevel: Logger.Level
        switch level {
        case _ where sharedPropertyNotice: logLevel = .debug
        case ...3: logLevel = .error
        case 4: logLevel = .warning
        case 5: logLevel = .notice
        case 6: logLevel = .info
        default: logLevel = .debug
        }
        context.logger.log(level: logLevel, "librdkafka: \(text)", metadata: ["kafka.facility": "\(facilityText)"])
    }

private let rdkafkaErrorCallback:
    @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
        handle, code, reason, opaque in
        guard let context = RdKafkaHandleContext.from(opaque) else { return }
        var error = KafkaError(code: .init(rawValue: code), reason: reason.map { String(cString: $0) } ?? "unknown")
        if code == RD_KAFKA_RESP_ERR__FATAL.rawValue, let handle {
            error = KafkaError.fatal(on: handle)
        }
        context.onError(error, error.isFatal)
    }

private let rdkafkaStatsCallback:
    @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Int32 = {
        _, json, length, opaque in
        guard let context = RdKafkaHandleContext.from(opaque), let json else { return 0 }
        let bytes = UnsafeRawBufferPointer(start: json, count: length)
        context.onStatistics(Array(bytes))
        return 0  // librdkafka frees the JSON buffer
    }

private let rdkafkaRebalanceCallback:
    @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        UnsafeMutableRawPointer?
    ) -> Void = {
        handle, code, partitions, opaque in
        guard let handle, let context = RdKafkaHandleContext.from(opaque), let onRebalance = context.onRebalance else {
            return
        }
        onRebalance(handle, code.rawValue, partitions)
    }

/// A bare producer handle with Switchboard's logging installed, for modules that call librdkafka's own APIs on it
/// (the mock cluster in `KafkaMock`). Destroyed with the object.
///
/// `@unchecked Sendable`: the handle is thread-safe and the pointer immutable.
package final class RdKafkaHelperHandle: @unchecked Sendable {
    package let pointer: OpaquePointer
    private let context: RdKafkaHandleContext

    package init(clientId: String, logger: Logger) throws {
        context = RdKafkaHandleContext(logger: logger)
        let conf = try RdKafkaConfiguration.make(
            settings: KafkaSettings(bootstrapServers: ""),  // the helper handle needs no brokers of its own
            defaults: ["client.id": clientId, "log.connection.close": "false"],
            enforced: [:]
        )
        context.install(on: conf)
        pointer = try makeRdKafkaHandle(type: RD_KAFKA_PRODUCER, conf: conf)
    }

    deinit { rd_kafka_destroy(pointer) }
}
