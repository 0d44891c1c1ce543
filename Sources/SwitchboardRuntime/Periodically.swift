import ServiceLifecycle

/// Runs `work` now and then every `interval` until graceful shutdown or cancellation, and returns normally either
/// way: a periodic side task (ledger purge, DLQ depth, analytics) must never turn a clean shutdown into a failure.
public func runPeriodically(every interval: Duration, _ work: @escaping @Sendable () async -> Void) async {
    do {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await work()
                try await Task.sleep(for: interval)
            }
        }
    } catch {
        // Cancelled by graceful shutdown: the expected way out.
    }
}
