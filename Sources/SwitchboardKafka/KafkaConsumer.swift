internal import Crdkafka
import Foundation
import Logging
import Synchronization
import SwitchboardBase

/// A librdkafka high-level consumer whose rebalance callback Switchboard owns, in swift-kafka-client's shape: the
/// C side only buffers ``Event``s, and the owner consumes ``events`` in order.
///
/// One dedicated poll thread calls `rd_kafka_consumer_poll`; records (in batches of what one poll had ready),
/// assignments, revokes, statistics and fatal errors become events. A revoke carries a ``RevokeTicket``: the poll
/// thread waits inside librdkafka's callback until the owner completes it (having drained the partitions' in-flight
/// work and stored their offsets), then commits synchronously and unassigns. Offsets are stored explicitly
/// (`enable.auto.offset.store=false`) and committed by librdkafka's auto-commit, on revoke and at shutdown.
///
/// `@unchecked Sendable`: the librdkafka handle is thread-safe; mutable state is atomic or under a Mutex.
public final class KafkaConsumer: @unchecked Sendable {
    /// What the consumer hands its owner, in the order librdkafka delivered it.
    public enum Event: Sendable {
        /// Up to ``KafkaConsumer/maximumBatch`` records; a batch never spans a rebalance.
        case records([KafkaRecord])
        /// Partitions added to this member's assignment (already assigned; their records follow).
        case assigned([TopicPartition])
        /// Partitions being taken away (`lost`: by the group, without a chance to commit). Complete the ticket when
        /// their work is drained and their offsets stored; librdkafka then commits and unassigns them.
        case revoking([TopicPartition], lost: Bool, RevokeTicket)
        case statistics(KafkaStatistics)
        /// A commit made on revoke or at shutdown was refused (`stage`: `revoke`, `shutdown`; `reason` in words).
        case commitRefused(stage: String, reason: String)
        /// librdkafka raised a fatal error: the client can do nothing more (the process should exit and restart).
        case fatal(KafkaError)
    }

    /// Most records in one ``Event/records(_:)`` batch.
    public static let maximumBatch = 32

    /// The default session timeout (see ``defaults``).
    public static let sessionTimeout: Duration = .seconds(10)

    /// Consumer defaults; `KAFKA_*` passthrough overrides them.
    static let defaults: [String: String] = [
        "partition.assignment.strategy": "cooperative-sticky",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": "true",
        "auto.commit.interval.ms": "1000",
        "statistics.interval.ms": "5000",
        "enable.partition.eof": "false",
        "queued.max.messages.kbytes": "16384",
        // librdkafka postpones a partition's next fetch by a second once its prefetch queue reaches
        // queued.min.messages (2.1 made that `fetch.queue.backoff.ms`): unless the threshold exceeds what the
        // runtime drains from one partition in a second, a backlog drains in one-second steps. This is
        // librdkafka's default, made explicit; memory stays bounded by the kbytes cap above.
        "queued.min.messages": "100000",
        // A crashed member's partitions wait for its session to time out unless a replacement with the same
        // `group.instance.id` (static membership: StatefulSet pod names, `switchboard-dev fleet`, the tests) takes them back
        // at once. 10 s instead of librdkafka's 45 s bounds the wait when no replacement comes; heartbeats every
        // second keep a live member far from it.
        "session.timeout.ms": String(sessionTimeout.milliseconds),
        "heartbeat.interval.ms": "1000",
    ]

    public let groupId: String
    /// The consumer's events, in order; one consumer only. Ends after ``close(timeout:)``.
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let handle: OpaquePointer
    private let context: RdKafkaHandleContext
    private let logger: Logger
    private let running = Atomic<Bool>(false)
    private let closed = AsyncEvent()
    private let lastPollNanos = Atomic<Int64>(0)
    private let monitor = Monitor()
    private let batch = PendingBatch()
    private let waker: FetchWaker?
    /// Longest the poll thread waits inside a revoke for its ticket (the owner bounds its own drain below this).
    private let revokeWait: Duration

    /// Records polled but not yet handed over. Touched only on the poll thread (the loop and the rebalance callback,
    /// which librdkafka calls from inside a poll), hence `@unchecked Sendable`.
    private final class PendingBatch: @unchecked Sendable {
        var records: [KafkaRecord] = []

        func flush(to continuation: AsyncStream<Event>.Continuation) {
            guard !records.isEmpty else { return }
            continuation.yield(.records(records))
            records.removeAll(keepingCapacity: true)
        }
    }

    /// State written from librdkafka callbacks and read by health checks.
    private final class Monitor: Sendable {
        let rebalances = Atomic<Int>(0)
        let groupState = Mutex<KafkaStatistics.ConsumerGroup?>(nil)
        let fatal = Atomic<Bool>(false)
    }

    /// `revokeWait` bounds how long librdkafka's revoke waits for the owner (its drain bound plus a margin).
    /// `wakesFetchersOnResume`: query each resumed partition's leader so librdkafka's broker thread fetches at once
    /// (see ``FetchWaker``); off only to measure what it is worth (`switchboard-dev bench runtime --no-fetch-waker`).
    public init(
        settings: KafkaSettings, groupId: String, clientId: String, revokeWait: Duration = .seconds(15),
        wakesFetchersOnResume: Bool = true,
        logger: Logger
    ) throws {
        self.groupId = groupId
        self.logger = logger
        self.revokeWait = revokeWait
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let continuation = self.continuation
        let monitor = self.monitor
        let batch = self.batch
        let revokeWait = self.revokeWait
        self.context = RdKafkaHandleContext(
            logger: logger,
            onError: { error, fatal in
                guard fatal else {
                    logger.warning("consumer error: \(error)")
                    return
                }
                Self.report(fatal: error, monitor: monitor, continuation: continuation, logger: logger)
            },
            onStatistics: { json in
                guard let statistics = try? JSONDecoder().decode(KafkaStatistics.self, from: Data(json)) else { return }
                monitor.groupState.withLock { $0 = statistics.cgrp }
                continuation.yield(.statistics(statistics))
            },
            onRebalance: { handle, code, partitions in
                monitor.rebalances.add(1, ordering: .relaxed)
                batch.flush(to: continuation)  // records polled before the rebalance reach the owner before it
                KafkaConsumer.rebalance(
                    handle: handle, code: code, partitions: partitions, continuation: continuation,
                    revokeWait: revokeWait, logger: logger)
            }
        )
        var defaults = Self.defaults
        defaults["client.id"] = clientId
        let conf = try RdKafkaConfiguration.make(
            settings: settings,
            defaults: defaults,
            enforced: ["group.id": groupId, "enable.auto.offset.store": "false"]
        )
        context.install(on: conf)
        self.handle = try makeRdKafkaHandle(type: RD_KAFKA_CONSUMER, conf: conf)
        self.waker = wakesFetchersOnResume ? FetchWaker(handle: handle) : nil
        rd_kafka_poll_set_consumer(handle)
    }

    deinit {
        waker?.stop()
        continuation.finish()
        if closed.isSignalled || !running.load(ordering: .relaxed) {
            // The poll loop already closed the consumer (or it never joined): closing again inside destroy would
            // hang after a fatal error, when librdkafka's close cannot complete.
            rd_kafka_destroy_flags(handle, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
        }
    }

    /// Subscribes to `topics` and starts the poll thread.
    public func start(topics: [String]) throws {
        let list = TopicPartitionList.make(topics.map { (TopicPartition($0, RD_KAFKA_PARTITION_UA), nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let result = rd_kafka_subscribe(handle, list)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(result, "subscribe")
        }
        running.store(true, ordering: .relaxed)
        let thread = Thread { [self] in pollLoop() }
        thread.name = "kafka-consumer-poll"
        thread.start()
    }

    private func pollLoop() {
        while running.load(ordering: .relaxed) {
            lastPollNanos.store(Int64(DispatchTime.now().uptimeNanoseconds), ordering: .relaxed)
            // Wait for one message, then take what else is ready without waiting.
            var next = rd_kafka_consumer_poll(handle, 100)
            while let message = next {
                let err = message.pointee.err
                if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    batch.records.append(KafkaRecord(copying: message))
                } else if err == RD_KAFKA_RESP_ERR__FATAL {
                    // A consumer's fatal error arrives as a message, not through the error callback.
                    reportFatal(KafkaError.fatal(on: handle))
                } else if err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    logger.warning("consume error \(err.rawValue): \(RdKafkaConfiguration.describe(err))")
                }
                rd_kafka_message_destroy(message)
                next = batch.records.count < Self.maximumBatch ? rd_kafka_consumer_poll(handle, 0) : nil
            }
            batch.flush(to: continuation)
        }
        // Leaving the group triggers the final revoke (the owner drains and stores; a synchronous commit) here.
        let result = rd_kafka_consumer_close(handle)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("consumer close: \(RdKafkaConfiguration.describe(result))")
        }
        waker?.stop()
        continuation.finish()
        closed.signal()
    }

    /// Reports a fatal error once, however many ways librdkafka delivers it.
    private static func report(
        fatal error: KafkaError, monitor: Monitor, continuation: AsyncStream<Event>.Continuation, logger: Logger
    ) {
        guard !monitor.fatal.exchange(true, ordering: .relaxed) else { return }
        logger.critical("consumer fatal error: \(error)")
        continuation.yield(.fatal(error))
    }

    private func reportFatal(_ error: KafkaError) {
        Self.report(fatal: error, monitor: monitor, continuation: continuation, logger: logger)
    }

    private static func rebalance(
        handle: OpaquePointer,
        code: Int32,
        partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        continuation: AsyncStream<Event>.Continuation,
        revokeWait: Duration,
        logger: Logger
    ) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        let topicPartitions = TopicPartitionList.read(partitions).map(\.0)
        if code == sb_err_assign_partitions() {
            logger.info("partitions assigned", metadata: ["partitions": "\(topicPartitions.map(\.description))"])
            continuation.yield(.assigned(topicPartitions))
            if cooperative {
                if let error = rd_kafka_incremental_assign(handle, partitions) {
                    logger.error("incremental assign failed: \(String(cString: rd_kafka_error_string(error)))")
                    rd_kafka_error_destroy(error)
                }
            } else {
                rd_kafka_assign(handle, partitions)
            }
        } else if code == sb_err_revoke_partitions() {
            let lost = rd_kafka_assignment_lost(handle) != 0
            logger.info(
                "partitions revoked",
                metadata: ["partitions": "\(topicPartitions.map(\.description))", "lost": "\(lost)"])
            let ticket = RevokeTicket()
            // Nobody left to drain (the owner stopped reading): let the revoke go on at once.
            if case .enqueued = continuation.yield(.revoking(topicPartitions, lost: lost, ticket)),
                !ticket.wait(timeout: revokeWait)
            {
                logger.warning("revoke: in-flight work was not drained in time; the next owner redelivers it")
            }
            if !lost {
                let result = rd_kafka_commit(handle, nil, 0)
                if result != RD_KAFKA_RESP_ERR_NO_ERROR && result != RD_KAFKA_RESP_ERR__NO_OFFSET {
                    logger.warning("commit on revoke failed: \(RdKafkaConfiguration.describe(result))")
                    continuation.yield(.commitRefused(stage: "revoke", reason: RdKafkaConfiguration.describe(result)))
                }
            }
            if cooperative {
                if let error = rd_kafka_incremental_unassign(handle, partitions) {
                    logger.error("incremental unassign failed: \(String(cString: rd_kafka_error_string(error)))")
                    rd_kafka_error_destroy(error)
                }
            } else {
                rd_kafka_assign(handle, nil)
            }
        } else {
            logger.error("rebalance error \(code)")
            rd_kafka_assign(handle, nil)
        }
    }

    /// Stores `offset` (the next offset to consume) for each partition, to be committed.
    /// Partitions no longer assigned are ignored by librdkafka. Does not block.
    public func storeOffsets(_ offsets: [(TopicPartition, Int64)]) {
        guard !offsets.isEmpty else { return }
        TopicPartitionList.with(offsets.map { ($0.0, $0.1) }) { list in
            _ = rd_kafka_offsets_store(handle, list)
        }
    }

    /// Stops fetching from `partitions` (the poll loop keeps running). Does not block.
    public func pause(_ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        TopicPartitionList.with(partitions.map { ($0, nil) }) { _ = rd_kafka_pause_partitions(handle, $0) }
    }

    /// Resumes fetching from `partitions`, waking their broker threads (see ``FetchWaker``). Does not block.
    public func resume(_ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        TopicPartitionList.with(partitions.map { ($0, nil) }) { _ = rd_kafka_resume_partitions(handle, $0) }
        waker?.wake(partitions)
    }

    /// Commits the stored offsets synchronously (on a thread of its own), retrying while the group coordinator
    /// refuses commits because a rebalance is in progress or the coordinator is moving; the poll loop keeps
    /// running meanwhile, so the rebalance can finish. Returns whether the offsets were committed within `timeout`.
    ///
    /// Used before leaving the group at shutdown: the commit librdkafka makes inside the final revoke can be
    /// refused the same way (librdkafka's mock broker refuses every commit while a member rejoins), and the
    /// finished work would then be redelivered to the next owner.
    public func commitStored(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let result = await BlockingCall.run { [self] in rd_kafka_commit(handle, nil, 0).rawValue }
            if result == RD_KAFKA_RESP_ERR_NO_ERROR.rawValue || result == RD_KAFKA_RESP_ERR__NO_OFFSET.rawValue {
                return true
            }
            let code = KafkaError.Code(rawValue: result)
            guard code.isRetriable, ContinuousClock.now + Self.commitRetryInterval < deadline else {
                logger.warning("commit at shutdown failed: \(code.reason)")
                continuation.yield(.commitRefused(stage: "shutdown", reason: code.reason))
                return false
            }
            try? await Task.sleep(for: Self.commitRetryInterval)  // a backoff between retries, not a poll
        }
    }

    private static let commitRetryInterval: Duration = .milliseconds(200)

    /// Stops polling, leaves the group (revoking and committing through the rebalance callback, so keep consuming
    /// ``events`` until they end) and waits at most `timeout`. Returns false when the close did not finish in time.
    public func close(timeout: Duration) async -> Bool {
        guard running.exchange(false, ordering: .relaxed) else { return closed.isSignalled }
        return await closed.wait(timeout: timeout)
    }

    /// Time since the poll loop last ran; large values mean the loop is stuck.
    public var timeSinceLastPoll: Duration {
        let last = lastPollNanos.load(ordering: .relaxed)
        guard last > 0 else { return .zero }
        return .nanoseconds(Int64(DispatchTime.now().uptimeNanoseconds) - last)
    }

    public var isPolling: Bool { running.load(ordering: .relaxed) }

    /// Whether librdkafka raised a fatal error (the consumer can do nothing more).
    public var hasFailed: Bool { monitor.fatal.load(ordering: .relaxed) }

    /// The consumer group state from the latest statistics (nil before the first statistics arrive).
    public var groupState: KafkaStatistics.ConsumerGroup? { monitor.groupState.withLock { $0 } }

    public var rebalanceCount: Int { monitor.rebalances.load(ordering: .relaxed) }

    /// Makes librdkafka raise a fatal error on this consumer, as the broker fencing it would (tests only).
    package func injectFatalError(_ reason: String) {
        _ = rd_kafka_test_fatal_error(handle, RD_KAFKA_RESP_ERR__FENCED, reason)
    }
}

/// What a revoke's callback waits on: the owner completes it once the revoked partitions' work is drained and their
/// offsets are stored. Completing it twice is harmless.
public final class RevokeTicket: Sendable {
    private let done = AsyncEvent()

    init() {}

    /// The revoke may go on: librdkafka commits what was stored and unassigns.
    public func complete() { done.signal() }

    /// Blocks the poll thread (inside librdkafka's callback) until completed or `timeout`; false on timeout.
    func wait(timeout: Duration) -> Bool { done.blockingWait(timeout: timeout) }
}

extension KafkaConsumer {
    /// Consumes ``events`` for a reader that only wants records (test readers, one-off tools): `body` gets each
    /// batch, revokes are let through at once, everything else is ignored. The task ends with the consumer.
    public func readRecords(_ body: @escaping @Sendable ([KafkaRecord]) -> Void) -> Task<Void, Never> {
        let events = self.events
        return Task {
            for await event in events {
                switch event {
                case .records(let records): body(records)
                case .revoking(_, _, let ticket): ticket.complete()
                default: break
                }
            }
        }
    }
}
