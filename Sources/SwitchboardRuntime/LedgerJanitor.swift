import Foundation
import Logging
import ServiceLifecycle
import SwitchboardStore
import SwitchboardBase

/// Purges processed-event ledger entries (and finished effect records) past the retention window, hourly.
/// Every worker runs one; the purge is idempotent, so overlapping runs are harmless.
package struct LedgerJanitor: Service {
    let store: Store
    let retention: Duration
    let logger: Logger

    package init(store: Store, retention: Duration, logger: Logger) {
        self.store = store
        self.retention = retention
        self.logger = logger
    }

    package func run() async throws {
        await runPeriodically(every: .seconds(3600)) {
            do {
                let purged = try await store.purgeLedger(olderThan: Date().addingTimeInterval(-retention.seconds))
                if purged > 0 { logger.info("purged \(purged) ledger entries past retention") }
            } catch {
                logger.warning("ledger purge failed: \(error)")
            }
        }
    }
}
