import SwitchboardRuntime
import WorkerKit

/// Customer texts become Gorgias tickets; consent keywords (on `sms.consent`, or found on `sms.inbound`) are recorded
/// first and never reach the helpdesk as messages; their notes follow as helpdesk follow-ups.
enum InboundWorker {
    static let definition = WorkerDefinition(
        FleetRoster.inbound,
        makeServices: { context in
            [
                HelpdeskFollowUps(
                    store: context.store, accounts: context.accounts, metrics: context.metrics, logger: context.logger,
                    time: context.time)
            ]
        }
    ) { context in
        InboundTextHandler(accounts: context.accounts, store: context.store)
    }
}
