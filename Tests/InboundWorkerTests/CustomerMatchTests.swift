import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardGorgias
import SwitchboardHTTP
import TestSupport
import SwitchboardDomain
import SwitchboardJSON
import SwitchboardStore

/// A texter Gorgias already knows by email (from email support): creating an SMS customer with that email is
/// refused (409), so the phone is added to the existing customer and the ticket is theirs.
@Suite("Customer matched by email, end to end", .serialized, .timeLimit(.minutes(5)))
struct CustomerMatchTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    @Test("a 409 on the customer's email adds the phone to the existing customer, whose the ticket then is")
    func matchedByEmail() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        let existing = try await HTTPClient.withClient { http in
            try await GorgiasClient(
                baseURL: fleet.sandbox.gorgiasBaseURL("acme"),
                credentials: .apiKey(email: "ops@acme.example", key: acme.gorgiasKey), accountId: "acme", http: http,
                limiter: UnlimitedRateLimiter()
            ).createCustomer(
                phone: "+15550009999", name: "Jane Doe", email: "jane@example.com", externalId: "email:jane")
        }
        let phone = "+15551420001"
        try await fleet.produce([
            InboundText(
                accountId: "acme", messageSid: "SM-e1", from: phone, to: acme.number, body: "Is my order ready?",
                receivedAt: Date(), customer: CustomerHint(name: "Jane Doe", email: "jane@example.com")
            ).record(id: "SM-e1", source: "test")
        ])
        #expect(
            await eventually { (try? await fleet.gorgias("acme")["tickets"]?.arrayValue?.count) == 1 }, "\(fleet.logs)")
        let ticket = try #require(try await fleet.gorgias("acme")["tickets"]?.arrayValue?.first)
        #expect(ticket["customer"]?["id"]?.intValue == existing.id)
        let customers = try await fleet.gorgias("acme")["customers"]?.arrayValue ?? []
        #expect(customers.count == 1, "no second customer")
        let phones = (customers.first?["channels"]?.arrayValue ?? []).compactMap { $0["address"]?.stringValue }
        #expect(Set(phones) == ["+15550009999", phone])
        #expect(
            try await fleet.withStore { try await $0.conversation(accountId: "acme", phone: phone)?.customerId }
                == existing.id)
        await fleet.shutdown()
    }
}
