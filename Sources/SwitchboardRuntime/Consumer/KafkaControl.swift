import Dispatch

/// The one serial executor for the consumer's control calls (pause, resume, store offsets): transitions of the
/// dispatch state enqueue them in order while holding the state's lock, and they run here, outside it, in that
/// order. None of them blocks (librdkafka queues them internally).
final class KafkaControl: Sendable {
    private let queue = DispatchQueue(label: "kafka-control")

    /// Runs `call` after every call enqueued before it.
    func enqueue(_ call: @escaping @Sendable () -> Void) {
        queue.async(execute: call)
    }

    /// Returns once every call enqueued before it has run (before a commit, so it sees the last stored offsets).
    func barrier() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { continuation.resume() }
        }
    }
}
