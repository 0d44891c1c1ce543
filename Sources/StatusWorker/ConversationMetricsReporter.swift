import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import SwitchboardObservability
import SwitchboardRuntime
import SwitchboardStore
import SwitchboardDomain

/// Publishes `switchboard conversations stats` as metrics every 30 s: tickets by status, median time to close,
/// opt-outs in the last day, conversations.
struct ConversationMetricsReporter: Service {
    let store: Store
    let metrics: LabeledMetrics
    let logger: Logger

    func run() async throws {
        await runPeriodically(every: .seconds(30)) {
            do {
                try await report()
            } catch {
                logger.warning("conversation metrics not updated: \(error)")
            }
        }
    }

    func report() async throws {
        let stats = try await store.conversationStats(days: 1)
        for (status, count) in stats.ticketsByStatus {
            metrics.gauge(MetricCatalog.tickets, [("status", status)]).set(Int64(count))
        }
        metrics.gauge(MetricCatalog.medianTimeToClose, []).set(stats.medianTimeToCloseSeconds ?? 0)
        let dayAgo = Date().addingTimeInterval(-86400)
        let recent = try await store.optOuts(since: dayAgo)
        metrics.gauge(MetricCatalog.optOutsLastDay, []).set(Int64(recent))
        metrics.gauge(MetricCatalog.conversations, []).set(Int64(stats.conversations))
    }
}
