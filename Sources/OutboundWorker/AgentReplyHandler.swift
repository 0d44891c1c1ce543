import Logging
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardGorgias
import SwitchboardRuntime
import SwitchboardStore
import WorkerKit
import SwitchboardBase

/// Handles `helpdesk.message.created`.
///
/// The event's hints are trusted only to skip cheaply (customer messages and notes, Switchboard's own included,
/// come back through the same webhook); anything that may be sent is re-read through the Gorgias API and decided
/// on the message itself.
struct AgentReplyHandler: EventHandler {
    let accounts: AccountDirectory
    let store: Store
    let sender: ReplySender
    let optOut: AgentOptOut
    let merged: MergedTicketFinder

    init(accounts: AccountDirectory, store: Store) {
        self.accounts = accounts
        self.store = store
        self.sender = ReplySender(store: store)
        self.optOut = AgentOptOut(store: store)
        self.merged = MergedTicketFinder(store: store)
    }

    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        let reply = try HelpdeskMessage(event)
        guard let entry = try await accounts.entry(reply.accountId) else {
            return .ignored("unknown account \(reply.accountId)")
        }
        guard entry.account.status == .connected else { return .ignored("account \(reply.accountId) is disconnected") }
        if reply.fromAgent == false { return .ignored("a customer message, not an agent reply") }
        if reply.channel == "internal-note" || reply.isPublic == false { return .ignored("an internal note") }
        let known = try await store.conversation(accountId: reply.accountId, ticketId: reply.ticketId)
        if known == nil, reply.channel.map({ $0 != "sms" }) == true {
            return .ignored("ticket \(reply.ticketId) is not a Switchboard conversation")
        }
        // The reply is read and judged first: a ticket Switchboard does not know is looked into (a merge) only for a
        // reply that would be sent.
        let message: GorgiasMessage
        do {
            message = try await entry.gorgias.message(ticketId: reply.ticketId, id: reply.messageId)
        } catch let error as GorgiasError where known == nil && error.isGone {
            return .ignored("ticket \(reply.ticketId) is not a Switchboard conversation")
        }
        if case .ignore(let reason) = ReplyClassifier.classify(message, settings: entry.account.settings) {
            return .ignored(reason)
        }
        guard let conversation = try await known.asyncOr({ try await merged.conversation(for: reply, entry: entry) })
        else {
            return .ignored("ticket \(reply.ticketId) is not a Switchboard conversation")
        }
        if known == nil {
            context.logger.info(
                "ticket joined its conversation after a merge in Gorgias", metadata: ["ticket": "\(reply.ticketId)"])
        }
        let content = ReplyContent(message)
        let job = ReplyJob(
            eventId: event.id, ticketId: reply.ticketId, message: message, content: content, conversation: conversation,
            entry: entry)
        if content.hasOptOutCommand {
            try await optOut.run(job)
            context.logger.info("#optout handled; the reply was not sent")
        } else {
            let outcome = try await sender.deliver(job)
            context.logger.info("agent reply handled", metadata: ["outcome": "\(outcome)"])
        }
        return .processed
    }
}

/// One agent reply being handled.
struct ReplyJob: Sendable {
    var eventId: String
    var ticketId: Int64
    var message: GorgiasMessage
    var content: ReplyContent
    var conversation: Conversation
    var entry: AccountDirectory.Entry

    var account: Account { entry.account }
    var phone: String { conversation.phone }

    /// The note key for this reply and a kind of note.
    func noteKey(_ kind: String) -> String { "note:\(eventId):\(kind)" }
}
