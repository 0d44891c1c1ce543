import SwitchboardEvents
import SwitchboardObservability
import SwitchboardRuntime
import SwitchboardStore
import WorkerKit

/// Keeps ticket status, delivery status and consent in sync, and reports conversation analytics.
enum StatusWorker {
    static let definition = WorkerDefinition(
        FleetRoster.status,
        makeServices: { context in
            [
                ConversationMetricsReporter(store: context.store, metrics: context.metrics, logger: context.logger),
                MerchantHealthChecker(
                    store: context.store, accounts: context.accounts, metrics: context.metrics,
                    accountLabels: AccountLabels(limit: context.configuration.metricsAccountLabels),
                    interval: context.configuration.merchantHealthInterval,
                    notices: MerchantNotices(
                        store: context.store, http: context.http, mailer: context.mailer,
                        logger: context.logger, accounts: context.accounts, time: context.time),
                    logger: context.logger),
            ]
        }
    ) { context in
        StatusEventHandler(accounts: context.accounts, store: context.store)
    }
}

/// Routes each event type to its handler.
struct StatusEventHandler: EventHandler {
    let tickets: TicketStatusHandler
    let deliveries: DeliveryStatusHandler
    let subscriptions: SubscriptionHandler

    init(accounts: AccountDirectory, store: Store) {
        tickets = TicketStatusHandler(store: store)
        deliveries = DeliveryStatusHandler(accounts: accounts, store: store)
        subscriptions = SubscriptionHandler(accounts: accounts, store: store)
    }

    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        switch event.kind {
        case .ticketStatus: try await tickets.handle(event, context: context)
        case .deliveryStatus: try await deliveries.handle(event, context: context)
        case .subscription: try await subscriptions.handle(event, context: context)
        default: .ignored("\(event.type) is not a status event")
        }
    }
}
