import Foundation
@testable import InboundWorker
import Testing
import SwitchboardDomain

/// How many Gorgias calls a text's import reserves, and when a customer is looked up by phone alone (no I/O).
@Suite("Customer lookup rules")
struct CustomerLookupRulesTests {
    static func conversation(customerId: Int64? = nil, tickets: Int = 0) -> Conversation {
        Conversation(
            id: "c1", accountId: "acme", phone: "+15551234567", customerId: customerId,
            currentTicketId: tickets > 0 ? 42 : nil, ticketCount: tickets, lastActivityAt: Date(), createdAt: Date())
    }

    @Test("a known customer's text reserves one call; a new conversation three plus its uploads; a known one four")
    func reservedCalls() {
        #expect(CustomerResolver.reservedCalls(Self.conversation(customerId: 7, tickets: 1), media: 2) == 1)
        #expect(CustomerResolver.reservedCalls(Self.conversation(), media: 0) == 3)
        #expect(CustomerResolver.reservedCalls(Self.conversation(), media: 2) == 5)
        #expect(CustomerResolver.reservedCalls(Self.conversation(tickets: 1), media: 0) == 4)
    }

    @Test(
        "only a new conversation's first try trusts an empty answer by phone; a retry or a known one looks by external id"
    )
    func phoneFirst() {
        #expect(CustomerResolver.looksByPhoneFirst(Self.conversation(), retried: false))
        #expect(!CustomerResolver.looksByPhoneFirst(Self.conversation(), retried: true))
        #expect(!CustomerResolver.looksByPhoneFirst(Self.conversation(tickets: 2), retried: false))
    }
}
