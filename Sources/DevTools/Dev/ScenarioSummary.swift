import Foundation
import SwitchboardBase
import SwitchboardJSON

/// What a Gorgias helpdesk and a Twilio account hold, counted the way a person would check them on the sandbox page.
struct ScenarioCounts: Codable, Equatable {
    var tickets: Int
    var openTickets: Int
    var customerMessages: Int
    var agentReplies: Int
    var internalNotes: Int
    var textsReceived: Int
    var smsSent: Int
    var smsDelivered: Int
    var smsUndelivered: Int
    var providerAutoReplies: Int

    /// Counts from the sandbox's views of one Gorgias account and one Twilio account.
    init(gorgias: JSONValue, twilio: JSONValue) {
        let tickets = gorgias["tickets"]?.arrayValue ?? []
        let messages = tickets.flatMap { $0["messages"]?.arrayValue ?? [] }
        let sms = twilio["messages"]?.arrayValue ?? []
        let sent = sms.filter { $0["direction"] == "outbound-api" }
        self.tickets = tickets.count
        openTickets = tickets.filter { $0["status"] == "open" }.count
        customerMessages = messages.filter { $0["from_agent"] == false }.count
        agentReplies = messages.filter { $0["from_agent"] == true && $0["channel"] != "internal-note" }.count
        internalNotes = messages.filter { $0["channel"] == "internal-note" }.count
        textsReceived = sms.filter { $0["direction"] == "inbound" }.count
        smsSent = sent.count
        smsDelivered = sent.filter { $0["status"] == "delivered" }.count
        smsUndelivered = sent.filter { ["undelivered", "failed"].contains($0["status"]?.stringValue ?? "") }.count
        providerAutoReplies = sms.filter { $0["direction"] == "outbound-reply" }.count
    }

    init(
        tickets: Int, openTickets: Int, customerMessages: Int, agentReplies: Int, internalNotes: Int,
        textsReceived: Int, smsSent: Int,
        smsDelivered: Int, smsUndelivered: Int, providerAutoReplies: Int
    ) {
        self.tickets = tickets
        self.openTickets = openTickets
        self.customerMessages = customerMessages
        self.agentReplies = agentReplies
        self.internalNotes = internalNotes
        self.textsReceived = textsReceived
        self.smsSent = smsSent
        self.smsDelivered = smsDelivered
        self.smsUndelivered = smsUndelivered
        self.providerAutoReplies = providerAutoReplies
    }
}

/// The end of a `switchboard-dev fleet` run: what the sandbox holds, what the scenario expected, and where to look.
struct ScenarioSummary: Codable {
    var sandboxURL: String
    var seconds: Double
    var counts: ScenarioCounts
    var expected: ScenarioCounts
    var recordsProcessed: [String: Int]
    /// Each worker's `/metrics` URL.
    var metricsURLs: [String: String]
    var deadLettered: Int
    var environmentFile: String

    var matches: Bool { counts == expected }

    /// The summary a person reads.
    var text: String {
        let c = counts
        var lines = [
            "",
            "Scenario finished in \(String(format: "%.0f", seconds)) s\(matches ? "" : " — the sandbox does NOT hold what the scenario expected").",
            "",
            "  Gorgias (helpdesk \(DemoAccount.id)):  \(c.tickets) tickets (\(c.openTickets) open, \(c.tickets - c.openTickets) closed), \(c.customerMessages) customer messages, \(c.agentReplies) agent replies, \(c.internalNotes) internal notes",
            "  Twilio (number \(DemoAccount.number)):  \(c.textsReceived) texts received, \(c.smsSent) SMS sent by Switchboard (\(c.smsDelivered) delivered, \(c.smsUndelivered) undelivered), \(c.providerAutoReplies) STOP/HELP auto-replies by Twilio",
            "  Workers: "
                + recordsProcessed.keys.sorted().map { "\($0) \(recordsProcessed[$0]!) records" }.joined(
                    separator: ", ") + "; \(deadLettered) dead-lettered",
        ]
        if !matches {
            lines.append("  expected: \(expected)")
        }
        lines += [
            "",
            "  Look at the tickets and SMS: \(sandboxURL)/",
            "  Environment for kcat and the CLI: source \(environmentFile)",
        ]
        return lines.joined(separator: "\n")
    }
}
