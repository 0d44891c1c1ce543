import Foundation
import SwitchboardBase
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardGorgias
import SwitchboardStore
import WorkerKit

/// Finds or creates the Gorgias customer for a phone (external_id `sms:<E.164>`, then the phone channel, then
/// create), remembers it on the conversation, and sets a name only when Gorgias has none (never overwriting an
/// agent's edit). A customer whose email Gorgias already knows gets the phone added to that customer.
struct CustomerResolver: Sendable {
    let store: Store

    ///
    /// A new conversation's first try looks by phone first: an empty answer means nobody has the phone, so the
    /// customer is created at once (a first text then costs three calls with its ticket). Otherwise — a retry, which
    /// may have created the customer already, a conversation whose customer was merged away, or an answer naming only
    /// others (the phone filter ignored) — it looks by our `external_id` too before creating.
    func customerId(
        for conversation: Conversation, text: InboundText, retried: Bool, entry: AccountDirectory.Entry
    ) async throws -> Int64 {
        if let known = conversation.customerId { return known }
        let gorgias = entry.gorgias
        let subscriber = try await store.subscriber(accountId: entry.account.id, phone: text.from)
        let name = text.customer.name ?? subscriber?.name
        let email = text.customer.email ?? subscriber?.email
        let externalId = "sms:\(text.from)"
        var customer: GorgiasCustomer?
        if Self.looksByPhoneFirst(conversation, retried: retried) {
            switch try await gorgias.lookUpCustomer(phone: text.from) {
            case .found(let found): customer = found
            case .nobody: break  // created below
            case .unsure: customer = try await gorgias.customer(externalId: externalId)
            }
        } else {
            customer = try await gorgias.customer(externalId: externalId)
            if customer == nil { customer = try await gorgias.customer(phone: text.from) }
        }
        if customer == nil {
            do {
                customer = try await gorgias.createCustomer(
                    phone: text.from, name: name, email: email, externalId: externalId)
            } catch let error as GorgiasError where error.status == 409 {
                // Known by email (e.g. from email support): add the phone to that customer.
                guard let email, let existing = try await gorgias.customer(email: email) else { throw error }
                let channels =
                    (existing.channels ?? []) + [
                        GorgiasCustomerChannel(type: "phone", address: text.from, preferred: false)
                    ]
                customer = try await gorgias.setCustomerChannels(id: existing.id, channels: channels)
            }
        }
        guard var resolved = customer else {
            throw ProcessingFailure.transient(
                "gorgias.customer_missing", "customer lookup returned nothing", dependency: .gorgias)
        }
        if (resolved.name ?? "").isEmpty, let name {
            resolved = try await gorgias.setCustomerName(id: resolved.id, name: name)
        }
        try await store.setConversationCustomer(conversationId: conversation.id, customerId: resolved.id)
        return resolved.id
    }

    /// Whether a customer is looked up by phone alone first: a new conversation (no ticket yet) on its first try.
    static func looksByPhoneFirst(_ conversation: Conversation, retried: Bool) -> Bool {
        conversation.ticketCount == 0 && !retried
    }

    /// The Gorgias calls a text's import reserves up front (``TextImporter``): one for a known customer; for a new
    /// one, the lookups, the customer and the ticket, plus one upload per media file of the account's own.
    static func reservedCalls(_ conversation: Conversation, media: Int) -> Int {
        guard conversation.customerId == nil else { return 1 }
        return (conversation.ticketCount == 0 ? 3 : 4) + media
    }
}
