internal import Crdkafka
import Foundation
import Synchronization

/// Wakes librdkafka's broker threads after partitions are resumed.
///
/// librdkafka 2.0.2 does not wake the broker thread on resume: when every partition it fetches was paused, it sleeps
/// up to a second before it notices, and a backlog drains in stop-and-go bursts. Any request to a broker wakes its
/// thread, so each resumed partition gets a watermark query (sent to its leader; the answer is ignored). One thread
/// does this for the consumer, coalescing resumes that arrive while it works.
///
/// `@unchecked Sendable`: the librdkafka handle is thread-safe; the pending set is under a Mutex.
final class FetchWaker: @unchecked Sendable {
    private let handle: OpaquePointer
    private let pending = Mutex<(partitions: Set<TopicPartition>, stopped: Bool)>(([], false))
    private let signal = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)

    init(handle: OpaquePointer) {
        self.handle = handle
        let thread = Thread { [self] in run() }
        thread.name = "kafka-fetch-waker"
        thread.start()
    }

    /// Queues a wake-up for the leaders of `partitions`.
    func wake(_ partitions: [TopicPartition]) {
        let wasIdle = pending.withLock { state -> Bool in
            let idle = state.partitions.isEmpty
            state.partitions.formUnion(partitions)
            return idle
        }
        if wasIdle { signal.signal() }
    }

    /// Ends the thread and waits for it (at most one query, bounded at a second); call before the handle is
    /// destroyed. Later calls return at once.
    func stop() {
        let first = pending.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        signal.signal()
        exited.wait()
    }

    private func run() {
        while true {
            signal.wait()
            let (batch, stopped) = pending.withLock { state in
                defer { state.partitions = [] }
                return (state.partitions, state.stopped)
            }
            if stopped {
                exited.signal()
                return
            }
            for partition in batch {
                var low: Int64 = 0
                var high: Int64 = 0
                _ = rd_kafka_query_watermark_offsets(handle, partition.topic, partition.partition, &low, &high, 1000)
            }
        }
    }
}
