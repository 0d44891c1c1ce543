import Shared

/// Customer texts become Gorgias tickets; consent keywords are handled and never reach the helpdesk.
enum InboundWorker {
    static let definition = WorkerDefinition(FleetRoster.inbound) { context in
        InboundTextHandler(accounts: context.accounts, store: context.store)
    }
}
