internal import Crdkafka
import Foundation
import Logging
import Synchronization

/// A librdkafka high-level consumer with the rebalance callback owned by Switchboard.
///
/// One dedicated poll thread calls `rd_kafka_consumer_poll`; records, rebalances and statistics are
/// delivered to ``Callbacks`` on that thread. Offsets are stored explicitly (`enable.auto.offset.store=false`)
/// and committed by librdkafka's auto-commit, synchronously on revoke, and at close.
///
/// `@unchecked Sendable`: the librdkafka handle is thread-safe; mutable state is atomic or under a Mutex.
public final class KafkaConsumer: @unchecked Sendable {
    /// Hooks called on the poll thread. They must return quickly, except `revoking`, which may block
    /// (bounded) while in-flight work for the revoked partitions finishes and its offsets are stored.
    public struct Callbacks: Sendable {
        /// Records in the order consumed, in batches of up to ``KafkaConsumer/maximumBatch`` (what one poll had
        /// ready); a batch never spans a rebalance.
        public var records: @Sendable ([KafkaRecord]) -> Void
        public var assigned: @Sendable ([TopicPartition]) -> Void
        public var revoking: @Sendable (_ partitions: [TopicPartition], _ lost: Bool) -> Void
        public var statistics: @Sendable (KafkaStatistics) -> Void
        /// A commit made on revoke or at shutdown was refused (`stage`: `revoke`, `shutdown`; `reason` in words).
        public var commitRefused: @Sendable (_ stage: String, _ reason: String) -> Void

        public init(
            records: @escaping @Sendable ([KafkaRecord]) -> Void,
            assigned: @escaping @Sendable ([TopicPartition]) -> Void = { _ in },
            revoking: @escaping @Sendable ([TopicPartition], Bool) -> Void = { _, _ in },
            statistics: @escaping @Sendable (KafkaStatistics) -> Void = { _ in },
            commitRefused: @escaping @Sendable (String, String) -> Void = { _, _ in }
        ) {
            self.records = records
            self.assigned = assigned
            self.revoking = revoking
            self.statistics = statistics
            self.commitRefused = commitRefused
        }

        /// One record at a time, for callers that do not batch.
        public init(record: @escaping @Sendable (KafkaRecord) -> Void) {
            self.init(records: { $0.forEach(record) })
        }
    }

    /// Most records handed to ``Callbacks/records`` at once.
    public static let maximumBatch = 32

    /// Consumer defaults; `KAFKA_*` passthrough overrides them.
    static let defaults: [String: String] = [
        "partition.assignment.strategy": "cooperative-sticky",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": "true",
        "auto.commit.interval.ms": "1000",
        "statistics.interval.ms": "5000",
        "enable.partition.eof": "false",
        "queued.max.messages.kbytes": "16384",
        // librdkafka 2.0.2 postpones a partition's next fetch by a fixed second once its prefetch queue reaches
        // queued.min.messages (2.1 made that `fetch.queue.backoff.ms`): unless the threshold exceeds what the
        // runtime drains from one partition in a second, a backlog drains in one-second steps. This is
        // librdkafka's default, made explicit; memory stays bounded by the kbytes cap above.
        "queued.min.messages": "100000",
        // A crashed member's partitions wait for its session to time out unless a replacement with the same
        // `group.instance.id` (static membership: StatefulSet pod names, `switchboard dev`, the tests) takes them back
        // at once. 10 s instead of librdkafka's 45 s bounds the wait when no replacement comes; heartbeats every
        // second keep a live member far from it.
        "session.timeout.ms": String(sessionTimeout.milliseconds),
        "heartbeat.interval.ms": "1000",
    ]

    /// The default session timeout (see ``defaults``).
    public static let sessionTimeout: Duration = .seconds(10)

    public let groupId: String
    private let handle: OpaquePointer
    private let context: RdKafkaHandleContext
    private let logger: Logger
    private let running = Atomic<Bool>(false)
    private let closed = AsyncEvent()
    private let lastPollNanos = Atomic<Int64>(0)
    private let monitor = Monitor()
    private let batch = PendingBatch()

    /// Records polled but not yet delivered. Touched only on the poll thread (the loop and the rebalance callback,
    /// which librdkafka calls from inside a poll), hence `@unchecked Sendable`.
    private final class PendingBatch: @unchecked Sendable {
        var records: [KafkaRecord] = []

        func deliver(to callbacks: Callbacks) {
            guard !records.isEmpty else { return }
            let delivered = records
            records.removeAll(keepingCapacity: true)
            callbacks.records(delivered)
        }
    }

    /// State written from librdkafka callbacks and read by health checks.
    private final class Monitor: Sendable {
        let rebalances = Atomic<Int>(0)
        let groupState = Mutex<KafkaStatistics.ConsumerGroup?>(nil)
    }

    /// `wakesFetchersOnResume`: query each resumed partition's leader so librdkafka's broker thread fetches at once
    /// (see ``FetchWaker``); off only to measure what it is worth (`switchboard bench runtime --no-fetch-waker`).
    public init(settings: KafkaSettings, groupId: String, clientId: String, callbacks: Callbacks, wakesFetchersOnResume: Bool = true, logger: Logger) throws {
        self.groupId = groupId
        self.logger = logger
        let monitor = self.monitor
        let batch = self.batch
        self.context = RdKafkaHandleContext(
            logger: logger,
            onError: { error, fatal in
                if fatal { logger.critical("consumer fatal error: \(error)") } else { logger.warning("consumer error: \(error)") }
            },
            onStatistics: { json in
                guard let statistics = try? JSONDecoder().decode(KafkaStatistics.self, from: Data(json)) else { return }
                monitor.groupState.withLock { $0 = statistics.cgrp }
                callbacks.statistics(statistics)
            },
            onRebalance: { handle, code, partitions in
                monitor.rebalances.add(1, ordering: .relaxed)
                batch.deliver(to: callbacks)  // records polled before the rebalance reach the runtime before it
                KafkaConsumer.rebalance(handle: handle, code: code, partitions: partitions, callbacks: callbacks, logger: logger)
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
        self.callbacks = callbacks
    }

    private let callbacks: Callbacks
    private let waker: FetchWaker?

    deinit {
        waker?.stop()
        if closed.isSignalled || !running.load(ordering: .relaxed) {
            rd_kafka_destroy(handle)
        }
    }

    /// Subscribes to `topics` and starts the poll thread.
    public func start(topics: [String]) throws {
        let list = TopicPartitionList.make(topics.map { (TopicPartition($0, RD_KAFKA_PARTITION_UA), nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let result = rd_kafka_subscribe(handle, list)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(code: result.rawValue, reason: "subscribe failed: \(RdKafkaConfiguration.describe(result))")
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
                } else if err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    logger.warning("consume error \(err.rawValue): \(RdKafkaConfiguration.describe(err))")
                }
                rd_kafka_message_destroy(message)
                next = batch.records.count < Self.maximumBatch ? rd_kafka_consumer_poll(handle, 0) : nil
            }
            batch.deliver(to: callbacks)
        }
        // Leaving the group triggers the final revoke (drain, store, synchronous commit) on this thread.
        let result = rd_kafka_consumer_close(handle)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("consumer close: \(RdKafkaConfiguration.describe(result))")
        }
        waker?.stop()
        closed.signal()
    }

    private static func rebalance(
        handle: OpaquePointer,
        code: Int32,
        partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        callbacks: Callbacks,
        logger: Logger
    ) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        let topicPartitions = TopicPartitionList.read(partitions).map(\.0)
        if code == sb_err_assign_partitions() {
            logger.info("partitions assigned", metadata: ["partitions": "\(topicPartitions.map(\.description))"])
            callbacks.assigned(topicPartitions)
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
            logger.info("partitions revoked", metadata: ["partitions": "\(topicPartitions.map(\.description))", "lost": "\(lost)"])
            callbacks.revoking(topicPartitions, lost)
            if !lost {
                let result = rd_kafka_commit(handle, nil, 0)
                if result != RD_KAFKA_RESP_ERR_NO_ERROR && result != RD_KAFKA_RESP_ERR__NO_OFFSET {
                    logger.warning("commit on revoke failed: \(RdKafkaConfiguration.describe(result))")
                    callbacks.commitRefused("revoke", RdKafkaConfiguration.describe(result))
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
    /// Partitions no longer assigned are ignored by librdkafka.
    public func storeOffsets(_ offsets: [(TopicPartition, Int64)]) {
        guard !offsets.isEmpty else { return }
        TopicPartitionList.with(offsets.map { ($0.0, $0.1) }) { list in
            _ = rd_kafka_offsets_store(handle, list)
        }
    }

    /// Stops fetching from `partitions` (the poll loop keeps running).
    public func pause(_ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        TopicPartitionList.with(partitions.map { ($0, nil) }) { _ = rd_kafka_pause_partitions(handle, $0) }
    }

    /// Resumes fetching from `partitions`, waking their broker threads (see ``FetchWaker``).
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
    /// refused the same way (librdkafka 2.0.2's mock broker refuses every commit while a member rejoins), and the
    /// finished work would then be redelivered to the next owner.
    public func commitStored(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let result = await BlockingCall.run { [self] in rd_kafka_commit(handle, nil, 0).rawValue }
            if result == RD_KAFKA_RESP_ERR_NO_ERROR.rawValue || result == RD_KAFKA_RESP_ERR__NO_OFFSET.rawValue { return true }
            let retryable = Self.retryableCommitErrors.contains(result)
            guard retryable, ContinuousClock.now + Self.commitRetryInterval < deadline else {
                let reason = RdKafkaConfiguration.describe(rd_kafka_resp_err_t(rawValue: result))
                logger.warning("commit at shutdown failed: \(reason)")
                callbacks.commitRefused("shutdown", reason)
                return false
            }
            try? await Task.sleep(for: Self.commitRetryInterval)
        }
    }

    private static let commitRetryInterval: Duration = .milliseconds(200)

    /// Commit refusals that go away on their own: rebalance in progress, coordinator loading, unavailable or moved,
    /// request timed out, and librdkafka's local timeout and transport errors.
    private static let retryableCommitErrors: Set<Int32> = [
        RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__WAIT_COORD,
    ].reduce(into: Set<Int32>()) { $0.insert($1.rawValue) }

    /// Stops polling, leaves the group (revoking and committing through the rebalance hook) and waits
    /// at most `timeout`. Returns false when the close did not finish in time (brokers unreachable).
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

    /// The consumer group state from the latest statistics (nil before the first statistics arrive).
    public var groupState: KafkaStatistics.ConsumerGroup? { monitor.groupState.withLock { $0 } }

    public var rebalanceCount: Int { monitor.rebalances.load(ordering: .relaxed) }
}
