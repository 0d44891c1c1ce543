import ServiceLifecycle
import SwitchboardBase

/// Runs `work` now and then every `interval` (on `time`) until graceful shutdown or cancellation, and returns
/// normally either way: a periodic side task (ledger purge, DLQ depth, analytics) must never turn a clean shutdown
/// into a failure.
public func runPeriodically(
    every interval: Duration, time: any TimeSource = .system, _ work: @escaping @Sendable () async -> Void
) async {
    do {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await work()
                try await time.sleep(for: interval)
            }
        }
    } catch {
        // Cancelled by graceful shutdown: the expected way out.
    }
}
