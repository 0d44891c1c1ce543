import Foundation
import Shared

/// Finds or creates the Gorgias customer for a phone (external_id `sms:<E.164>`, then the phone channel, then
/// create), remembers it on the conversation, and sets a name only when Gorgias has none (never overwriting an
/// agent's edit). A customer whose email Gorgias already knows gets the phone added to that customer.
struct CustomerResolver: Sendable {
    let store: Store

    func customerId(for conversation: Conversation, text: InboundText, entry: AccountDirectory.Entry) async throws
        -> Int64
    {
        if let known = conversation.customerId { return known }
        let gorgias = entry.gorgias
        let subscriber = try await store.subscriber(accountId: entry.account.id, phone: text.from)
        let name = text.customer.name ?? subscriber?.name
        let email = text.customer.email ?? subscriber?.email
        let externalId = "sms:\(text.from)"
        var customer = try await gorgias.customer(externalId: externalId)
        if customer == nil { customer = try await gorgias.customer(phone: text.from) }
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
}
