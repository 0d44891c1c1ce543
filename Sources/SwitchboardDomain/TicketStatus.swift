/// A Gorgias ticket's status as Switchboard mirrors it (a snoozed ticket is `closed` with a snooze end).
public enum TicketStatus: String, Sendable, Codable, CaseIterable {
    case open
    case closed
}
