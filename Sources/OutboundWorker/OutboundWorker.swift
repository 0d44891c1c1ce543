import Shared

/// Agents' public replies in Gorgias become SMS to the customer; `#optout` opts a customer out; replies that cannot
/// be sent are explained to the agent in an internal note.
enum OutboundWorker {
    static let definition = WorkerDefinition(FleetRoster.outbound) { context in
        AgentReplyHandler(accounts: context.accounts, store: context.store)
    }
}
