import Foundation
@testable import InboundWorker
import Testing
import SwitchboardDomain

/// Where a customer's text goes, given the conversation's current ticket (no I/O).
@Suite("Ticket target rule")
struct TicketTargetTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func ticket(_ status: TicketStatus, snoozedUntil: Date? = nil, closedHoursAgo: Double? = nil) -> TicketRecord
    {
        TicketRecord(
            accountId: "acme", ticketId: 42, conversationId: "c1", status: status, snoozedUntil: snoozedUntil,
            statusAt: now.addingTimeInterval(-3600 * (closedHoursAgo ?? 1)),
            openedAt: now.addingTimeInterval(-86400 * 30),
            closedAt: closedHoursAgo.map { now.addingTimeInterval(-3600 * $0) }
        )
    }

    static func settings(_ policy: AccountSettings.ClosedTicketPolicy, windowHours: Int = 72) -> AccountSettings {
        var settings = AccountSettings(brand: "Acme")
        settings.closedTicketPolicy = policy
        settings.reopenWindowHours = windowHours
        return settings
    }

    @Test("no ticket yet: a new one")
    func noTicket() {
        #expect(TextImporter.target(for: nil, settings: Self.settings(.reopen), now: Self.now) == .newTicket)
    }

    @Test("an open ticket, a snoozed one, and one whose snooze has ended all take the text")
    func activeTickets() {
        for ticket in [
            Self.ticket(.open), Self.ticket(.closed, snoozedUntil: Self.now.addingTimeInterval(3600)),
            Self.ticket(.closed, snoozedUntil: Self.now.addingTimeInterval(-60)),
        ] {
            #expect(TextImporter.target(for: ticket, settings: Self.settings(.new), now: Self.now) == .thread(42))
        }
    }

    @Test(
        "a closed ticket: a new one, or reopened within the window when the policy says so",
        arguments: [
            (AccountSettings.ClosedTicketPolicy.new, 1.0, TextImporter.Target.newTicket),
            (.reopen, 1.0, .reopen(42)),
            (.reopen, 71.9, .reopen(42)),
            (.reopen, 72.1, .newTicket),
        ]
    )
    func closedTicket(policy: AccountSettings.ClosedTicketPolicy, closedHoursAgo: Double, expected: TextImporter.Target)
    {
        let ticket = Self.ticket(.closed, closedHoursAgo: closedHoursAgo)
        #expect(TextImporter.target(for: ticket, settings: Self.settings(policy), now: Self.now) == expected)
    }
}
