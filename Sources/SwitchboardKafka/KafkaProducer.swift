internal import Crdkafka
import Foundation
import Logging
import Synchronization
import SwitchboardBase

/// A librdkafka producer whose `send` resumes when the broker acknowledges (or rejects) the record.
///
/// Delivery reports are served by a dedicated poll thread, never the cooperative pool.
/// Idempotent (`enable.idempotence=true`, `acks=all`) so librdkafka's own retries never duplicate a record.
///
/// `@unchecked Sendable`: the handle is thread-safe per librdkafka's contract; `running` is atomic.
public final class KafkaProducer: @unchecked Sendable {
    private let handle: OpaquePointer
    private let context: RdKafkaHandleContext
    private let pollLoop = PollLoop()
    private let logger: Logger
    private let fatal = FatalState()
    /// Fires once librdkafka raises a fatal error (a fenced idempotent producer): nothing can be produced any more.
    public var failed: AsyncEvent { fatal.event }

    /// The first fatal error, kept for whoever reports it.
    private final class FatalState: Sendable {
        let error = Mutex<KafkaError?>(nil)
        let event = AsyncEvent()
    }

    /// Producer defaults; `KAFKA_*` passthrough overrides them.
    static let defaults: [String: String] = [
        "enable.idempotence": "true",
        "acks": "all",
        "linger.ms": "5",
        "message.timeout.ms": "120000",
    ]

    public init(settings: KafkaSettings, clientId: String, logger: Logger) throws {
        self.logger = logger
        let fatalState = self.fatal
        self.context = RdKafkaHandleContext(
            logger: logger,
            onError: { error, fatal in
                guard fatal else {
                    logger.warning("producer error: \(error)")
                    return
                }
                logger.critical("producer fatal error: \(error)")
                fatalState.error.withLock { $0 = $0 ?? error }
                fatalState.event.signal()
            })
        var defaults = Self.defaults
        defaults["client.id"] = clientId
        let conf = try RdKafkaConfiguration.make(settings: settings, defaults: defaults, enforced: [:])
        context.install(on: conf)
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryReportCallback)
        self.handle = try makeRdKafkaHandle(type: RD_KAFKA_PRODUCER, conf: conf)
        // The thread holds only the loop state and the handle, never `self`, so an abandoned producer still deinits.
        let loop = pollLoop
        let pollHandle = UncheckedHandle(handle)
        let thread = Thread {
            while loop.running.load(ordering: .relaxed) {
                rd_kafka_poll(pollHandle.pointer, 100)
            }
            loop.done.signal()
        }
        thread.name = "kafka-producer-poll"
        thread.start()
    }

    /// The fatal error librdkafka raised, if any.
    public var failure: KafkaError? { fatal.error.withLock { $0 } }

    /// Makes librdkafka raise a fatal error on this producer, as a broker fencing it would (tests only).
    package func injectFatalError(_ reason: String) {
        _ = rd_kafka_test_fatal_error(handle, RD_KAFKA_RESP_ERR__FENCED, reason)
    }

    deinit {
        pollLoop.running.store(false, ordering: .relaxed)
        _ = pollLoop.done.blockingWait(timeout: .seconds(2))
        rd_kafka_destroy(handle)
    }

    /// Produces `record` and waits for the broker's acknowledgement.
    ///
    /// Retries locally while librdkafka's queue is full; throws ``KafkaError`` for a failed delivery
    /// (after librdkafka's own retries) or an immediate rejection.
    @discardableResult
    public func send(_ record: OutgoingRecord) async throws -> DeliveryReport {
        var backoff = Duration.milliseconds(5)
        while true {
            do {
                return try await sendOnce(record)
            } catch let error as KafkaError where error.code == KafkaError.Code.queueFull {
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .milliseconds(500))
            }
        }
    }

    private func sendOnce(_ record: OutgoingRecord) async throws -> DeliveryReport {
        let delivery = DeliveryFuture()
        try enqueue(record, delivery)
        return try await delivery.value
    }

    /// Produces `records` in order (so records of one key keep their order) without waiting between them,
    /// then waits for every acknowledgement.
    @discardableResult
    public func sendAll(_ records: [OutgoingRecord]) async throws -> [DeliveryReport] {
        var deliveries: [DeliveryFuture] = []
        deliveries.reserveCapacity(records.count)
        for record in records {
            var backoff = Duration.milliseconds(5)
            while true {
                let delivery = DeliveryFuture()
                do {
                    try enqueue(record, delivery)
                    deliveries.append(delivery)
                    break
                } catch let error as KafkaError where error.code == KafkaError.Code.queueFull {
                    try await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .milliseconds(500))
                }
            }
        }
        var reports: [DeliveryReport] = []
        for delivery in deliveries { reports.append(try await delivery.value) }
        return reports
    }

    /// Hands one record to librdkafka; `delivery` completes from the delivery-report callback.
    private func enqueue(_ record: OutgoingRecord, _ delivery: DeliveryFuture) throws {
        let box = Unmanaged.passRetained(delivery).toOpaque()
        let headers = makeHeaders(record.headers)
        let timestamp = record.timestamp.map { Int64($0.timeIntervalSince1970 * 1000) } ?? 0
        let code = record.value.withUnsafeBytes { value in
            withOptionalBytes(record.key) { key in
                sb_produce(
                    handle, record.topic, record.partition ?? RD_KAFKA_PARTITION_UA,
                    key?.baseAddress, key?.count ?? 0,
                    value.baseAddress ?? UnsafeRawPointer(bitPattern: 1), value.count,
                    headers, timestamp, box
                )
            }
        }
        if code != RD_KAFKA_RESP_ERR_NO_ERROR {
            Unmanaged<DeliveryFuture>.fromOpaque(box).release()
            throw KafkaError(code, "produce to \(record.topic)", fatal: code == RD_KAFKA_RESP_ERR__FATAL)
        }
    }

    private func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty, let list = rd_kafka_headers_new(headers.count) else { return nil }
        for header in headers {
            if let value = header.value {
                value.withUnsafeBytes { bytes in
                    _ = rd_kafka_header_add(list, header.key, -1, bytes.baseAddress, bytes.count)
                }
            } else {
                _ = rd_kafka_header_add(list, header.key, -1, nil, 0)
            }
        }
        return list
    }

    /// Waits up to `timeout` for every queued record to be delivered. Returns false on timeout.
    /// Blocks the calling thread; call it from a dedicated thread or at shutdown.
    public func flush(timeout: Duration) -> Bool {
        rd_kafka_flush(handle, Int32(clamping: timeout.milliseconds)) == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Flushes (bounded) and stops the poll thread. Safe to call more than once.
    public func shutdown(timeout: Duration = .seconds(10)) async {
        let flushed = await BlockingCall.run { self.flush(timeout: timeout) }
        if !flushed { logger.warning("producer flush timed out; undelivered records are abandoned") }
        pollLoop.running.store(false, ordering: .relaxed)
        await pollLoop.done.wait()
    }

    /// The underlying handle, for the embedded broker and offset queries in this module.
    var rawHandle: OpaquePointer { handle }
}

/// The poll thread's stop flag and completion signal.
private final class PollLoop: Sendable {
    let running = Atomic<Bool>(true)
    let done = AsyncEvent()
}

/// A librdkafka handle handed to the poll thread. `@unchecked Sendable`: librdkafka handles are thread-safe.
private struct UncheckedHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

/// One record's delivery outcome, completed by librdkafka's delivery-report callback (passed as the message opaque)
/// and awaited by the sender; either side may come first.
private final class DeliveryFuture: Sendable {
    private struct State {
        var result: Result<DeliveryReport, KafkaError>?
        var waiter: CheckedContinuation<DeliveryReport, any Error>?
    }

    private let state = Mutex(State())

    func complete(_ result: Result<DeliveryReport, KafkaError>) {
        let waiter = state.withLock { state -> CheckedContinuation<DeliveryReport, any Error>? in
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result.mapError { $0 as any Error })
    }

    var value: DeliveryReport {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<DeliveryReport, KafkaError>? in
                    if state.result == nil { state.waiter = continuation }
                    return state.result
                }
                if let ready { continuation.resume(with: ready.mapError { $0 as any Error }) }
            }
        }
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes {
        body($0.baseAddress == nil ? UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: 1), count: 0) : $0)
    }
}

private let deliveryReportCallback:
    @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
        _, message, _ in
        guard let message, let opaque = message.pointee._private else { return }
        let delivery = Unmanaged<DeliveryFuture>.fromOpaque(opaque).takeRetainedValue()
        let err = message.pointee.err
        if err == RD_KAFKA_RESP_ERR_NO_ERROR {
            let topic = String(cString: rd_kafka_topic_name(message.pointee.rkt))
            delivery.complete(
                .success(
                    DeliveryReport(topic: topic, partition: message.pointee.partition, offset: message.pointee.offset)))
        } else {
            delivery.complete(.failure(KafkaError(err, "delivery", fatal: err == RD_KAFKA_RESP_ERR__FATAL)))
        }
    }
