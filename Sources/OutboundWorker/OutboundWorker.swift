import SwitchboardRuntime
import WorkerKit

/// Agents' public replies in Gorgias become SMS to the customer; `#optout` opts a customer out; replies that cannot
/// be sent are explained to the agent in an internal note. Helpdesk follow-ups of consent changes are performed here
/// too (and in the InboundWorker).
enum OutboundWorker {
    static let definition = WorkerDefinition(
        FleetRoster.outbound,
        makeServices: { context in
            [
                HelpdeskFollowUps(
                    store: context.store, accounts: context.accounts, metrics: context.metrics, logger: context.logger,
                    time: context.time)
            ]
        }
    ) { context in
        AgentReplyHandler(accounts: context.accounts, store: context.store)
    }
}
