import Foundation
import Sandbox
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardStore
import SwitchboardKafka
import OperatorKit

/// The conversations `switchboard-dev fleet` plays through the real fleet: customers sign up and text in (a photo among
/// them, fetched from Twilio through its CDN redirect), threads grow, agents answer, a STOP, a HELP, an `#optout`, a
/// reply that must not be sent, a delivery that fails, a STOP while Gorgias is down, a text after a ticket was
/// closed, and a text after an agent merged two tickets (Gorgias answers 301). Every step waits for its visible
/// outcome (in the sandbox or the store).
struct DemoScenario {
    struct Customer: Sendable {
        var name: String
        var phone: String
    }

    static let ava = Customer(name: "Ava Reyes", phone: "+15550101001")
    static let ben = Customer(name: "Ben Okafor", phone: "+15550101002")
    static let cleo = Customer(name: "Cleo Martin", phone: "+15550101003")
    static let dev = Customer(name: "Dev Patel", phone: "+15550101004")
    static let eli = Customer(name: "Eli Novak", phone: "+15550101005")
    static let fay = Customer(name: "Fay Laurent", phone: "+15550101006")
    static let gus = Customer(name: "Gus Lindqvist", phone: "+15550101007")
    static let hana = Customer(name: "Hana Sato", phone: "+15550101008")
    static let ivy = Customer(name: "Ivy Chen", phone: "+15550101009")
    /// Everyone who signed up for texts and writes to support (Dev only ever asks for HELP; Ivy is a marketing
    /// subscriber who texts STOP before she ever writes in).
    static let subscribers = [ava, ben, cleo, eli, fay, gus, hana]

    /// What the sandbox must hold when the scenario is over. The demo account lets Twilio answer STOP, START and
    /// HELP (its default opt-out handling), so those replies are Twilio's, not Switchboard's.
    static let expected = ScenarioCounts(
        tickets: 9, openTickets: 5, customerMessages: 13, agentReplies: 6, internalNotes: 6,
        textsReceived: 17, smsSent: 4, smsDelivered: 3, smsUndelivered: 1, providerAutoReplies: 4
    )

    let fleet: LocalStack
    let store: Store
    let progress: ScenarioProgress

    func run() async throws {
        try await step("8 customers sign up for texts (sms.subscriptions)") {
            let records = (Self.subscribers + [Self.ivy]).map { customer in
                SubscriptionUpdate(
                    accountId: DemoAccount.id, phone: customer.phone, state: .subscribed, at: Date(),
                    source: "signup-form",
                    customer: CustomerHint(name: customer.name)
                ).record(id: "signup:\(customer.phone)", source: "demo:signup-form")
            }
            _ = try await fleet.producer.sendAll(records)
        } until: {
            try await (Self.subscribers + [Self.ivy]).asyncAllSatisfy { try await consent(of: $0) == .subscribed }
        }
        try await step("Ivy, on the marketing list, texts STOP with no conversation open: unsubscribed, no ticket") {
            try await text(Self.ivy, "STOP")
        } until: {
            try await consent(of: Self.ivy) == .unsubscribed
        }
        try await step("customers text in: 7 new tickets in Gorgias") {
            try await text(Self.ava, "Hi! My order #1042 hasn't arrived yet.")
            try await text(Self.ben, "Do you ship to Canada?")
            try await text(Self.cleo, "Can I change the delivery address on my order?")
            try await text(Self.eli, "Is the blue hoodie back in stock?")
            try await text(Self.fay, "Hi, I'd like to return a jacket.")
            try await text(Self.gus, "This arrived damaged", photoBytes: 24_000)
            try await text(Self.hana, "When does the winter sale start?")
        } until: {
            let opened = try await Self.subscribers.asyncAllSatisfy { try await ticket(of: $0) != nil }
            let photo = try await attachments(Self.gus) == 1
            return opened && photo
        }
        try await step("threads: follow-up texts join their ticket") {
            try await text(Self.ava, "It was supposed to arrive Monday.")
            try await text(Self.ben, "Or to the UK?")
        } until: {
            let ava = try await customerMessages(Self.ava)
            let ben = try await customerMessages(Self.ben)
            return ava == 2 && ben == 2
        }
        try await step("agents reply in Gorgias: SMS delivered to 3 customers") {
            try await reply(Self.ava, "So sorry, Ava! It's out for delivery today and should reach you by 6pm.")
            try await reply(Self.ben, "We ship to both Canada 🇨🇦 and the UK 🇬🇧, 5-7 business days.")
            try await reply(
                Self.gus, "So sorry about that! A replacement mug ships today, no need to return the broken one.")
        } until: {
            try await delivered(to: [Self.ava, Self.ben, Self.gus])
        }
        try await step("Cleo texts STOP: unsubscribed, note on her ticket, ticket closed, nothing in the thread") {
            try await text(Self.cleo, "STOP")
        } until: {
            let unsubscribed = try await consent(of: Self.cleo) == .unsubscribed
            let noted = try await notes(Self.cleo).count == 1
            return unsubscribed && noted
        }
        try await step("Dev texts HELP: Twilio answers it (the account leaves keyword replies to Twilio), no ticket") {
            try await text(Self.dev, "HELP")
        } until: {
            try await autoReplies(to: Self.dev) == 1
        }
        try await step("an agent writes #optout to Eli: unsubscribed, reply not sent, note") {
            try await reply(Self.eli, "Thanks Eli, I've removed you from our texts. #optout")
        } until: {
            let unsubscribed = try await consent(of: Self.eli) == .unsubscribed
            let noted = try await notes(Self.eli).count == 1
            return unsubscribed && noted
        }
        try await step("an agent replies to Cleo after her STOP: blocked, the note says why") {
            try await reply(Self.cleo, "Sure, which address should we use?")
        } until: {
            try await notes(Self.cleo).count == 2
        }
        try await step("a reply to Fay cannot be delivered (30003): a note explains it") {
            try await fleet.control.post(
                "/sandbox/undeliverable", ["phone": .string(Self.fay.phone), "errorCode": 30003])
            try await reply(Self.fay, "Of course! Here's your return label: https://demo.example/r/8841")
        } until: {
            try await notes(Self.fay).count == 1
        }
        try await step(
            "Gorgias goes down; Hana texts STOP: unsubscribed at once, Twilio confirms, nothing dead-lettered"
        ) {
            try await setGorgiasDown(true)
            try await text(Self.hana, "Stop")
        } until: {
            let unsubscribed = try await consent(of: Self.hana) == .unsubscribed
            let confirmed = try await autoReplies(to: Self.hana) == 1
            return unsubscribed && confirmed
        }
        try await step("Gorgias is back: the note on Hana's ticket follows and the ticket closes") {
            try await setGorgiasDown(false)
        } until: {
            try await notes(Self.hana).count == 1
        }
        let first = try await ticket(of: Self.ava)
        try await step("Ava's ticket is closed, then she texts again: a new ticket opens") {
            guard let first else { return }
            try await fleet.control.post(
                "/sandbox/gorgias/\(DemoAccount.id)/tickets/\(first)/status", ["status": "closed"])
            _ = try await waitFor(.seconds(30)) {
                try await store.ticket(accountId: DemoAccount.id, ticketId: first)?.status == .closed
            }
            try await text(Self.ava, "Got it, thank you!")
        } until: {
            let current = try await ticket(of: Self.ava)
            return current != nil && current != first
        }
        try await mergedTicket()
        try await step("Ivy writes to support later: her question opens a ticket that stays open, noted as opted out") {
            try await text(Self.ivy, "Hi, can I still return the boots I bought last month?")
        } until: {
            let opened = try await ticket(of: Self.ivy) != nil
            let noted = try await notes(Self.ivy).count == 1
            return opened && noted
        }
        guard let ivy = try await ticket(of: Self.ivy),
            try await store.ticket(accountId: DemoAccount.id, ticketId: ivy)?.status == .open
        else {
            throw CLIError.failed("Ivy's ticket is not open: an old STOP closed a new question")
        }
    }

    /// Ben's first ticket is closed, he asks something new (a second ticket), and an agent reopens the first and
    /// merges the new one into it: his next text goes to the new one, Gorgias answers 301 to the first, and the
    /// conversation follows.
    private func mergedTicket() async throws {
        guard let first = try await ticket(of: Self.ben) else { return }
        try await step("Ben's ticket is closed; he asks something new: a second ticket") {
            try await fleet.control.post(
                "/sandbox/gorgias/\(DemoAccount.id)/tickets/\(first)/status", ["status": "closed"])
            _ = try await waitFor(.seconds(30)) {
                try await store.ticket(accountId: DemoAccount.id, ticketId: first)?.status == .closed
            }
            try await text(Self.ben, "One more thing: do you gift-wrap?")
        } until: {
            let current = try await ticket(of: Self.ben)
            return current != nil && current != first
        }
        guard let second = try await ticket(of: Self.ben) else { return }
        try await step("an agent merges Ben's new ticket into his first: his next text follows the merge (301)") {
            try await fleet.control.post(
                "/sandbox/gorgias/\(DemoAccount.id)/tickets/\(first)/status", ["status": "open"])
            try await fleet.control.post(
                "/sandbox/gorgias/\(DemoAccount.id)/tickets/\(second)/merge", ["into": .int(first)])
            try await text(Self.ben, "Thanks!")
        } until: {
            let followed = try await ticket(of: Self.ben) == first
            let landed = try await customerMessages(Self.ben) == 4
            return followed && landed
        }
    }

    // MARK: Steps

    private func step(
        _ title: String, _ action: () async throws -> Void, until done: @escaping @Sendable () async throws -> Bool
    ) async throws {
        progress.begin(title)
        try await action()
        guard try await waitFor(.seconds(60), done) else {
            throw CLIError.failed(
                "the scenario stalled at: \(title) (waited 60 s); worker logs are in \(fleet.directory)")
        }
        progress.end()
    }

    private func waitFor(_ timeout: Duration, _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try await condition()
    }

    // MARK: What customers and agents do

    /// A customer texts the demo number; Twilio (the sandbox) posts it where the number's texts are routed, which
    /// connecting pointed at the ingress. `photoBytes`: a JPEG the sandbox hosts behind the account's credentials.
    private func text(_ customer: Customer, _ body: String, photoBytes: Int? = nil) async throws {
        var request: [String: JSONValue] = [
            "from": .string(customer.phone), "to": .string(DemoAccount.number), "body": .string(body),
        ]
        if let photoBytes { request["media"] = [["contentType": "image/jpeg", "size": .int(Int64(photoBytes))]] }
        let sent = try await fleet.control.post(
            "/sandbox/twilio/\(DemoAccount.account.twilioSid)/inbound", .object(request))
        guard sent["webhook"]?.stringValue != nil else {
            throw CLIError.failed(
                "Twilio (the sandbox) posted \(customer.name)'s text to nobody: the number is not connected")
        }
    }

    /// Every Gorgias call answered 503 (or none): the sandbox's fault switch.
    private func setGorgiasDown(_ down: Bool) async throws {
        guard case .object(var faults) = try await fleet.control.get("/sandbox/faults") else { return }
        faults["gorgiasFailRate"] = .double(down ? 1 : 0)
        try await fleet.control.post("/sandbox/faults", .object(faults))
    }

    private func reply(_ customer: Customer, _ body: String) async throws {
        guard let ticket = try await ticket(of: customer) else {
            throw CLIError.failed("\(customer.name) has no ticket to reply on")
        }
        try await fleet.control.post(
            "/sandbox/gorgias/\(DemoAccount.id)/tickets/\(ticket)/reply", ["body_text": .string(body)])
    }

    // MARK: What can be observed

    private func ticket(of customer: Customer) async throws -> Int64? {
        try await store.conversation(accountId: DemoAccount.id, phone: customer.phone)?.currentTicketId
    }

    private func consent(of customer: Customer) async throws -> ConsentState? {
        try await store.subscriber(accountId: DemoAccount.id, phone: customer.phone)?.state
    }

    private func messages(_ customer: Customer) async throws -> [JSONValue] {
        guard let id = try await ticket(of: customer) else { return [] }
        let tickets = try await fleet.control.get("/sandbox/gorgias/\(DemoAccount.id)")["tickets"]?.arrayValue ?? []
        return tickets.first { $0["id"]?.intValue == id }?["messages"]?.arrayValue ?? []
    }

    private func customerMessages(_ customer: Customer) async throws -> Int {
        try await messages(customer).filter { $0["from_agent"] == false }.count
    }

    /// Files attached to the customer's messages (an MMS photo uploaded to Gorgias).
    private func attachments(_ customer: Customer) async throws -> Int {
        try await messages(customer).reduce(0) { $0 + ($1["attachments"]?.arrayValue?.count ?? 0) }
    }

    private func notes(_ customer: Customer) async throws -> [String] {
        try await messages(customer).filter { $0["channel"] == "internal-note" }.compactMap {
            $0["body_text"]?.stringValue
        }
    }

    private func sms() async throws -> [JSONValue] {
        try await fleet.control.get("/sandbox/twilio/\(DemoAccount.account.twilioSid)")["messages"]?.arrayValue ?? []
    }

    private func autoReplies(to customer: Customer) async throws -> Int {
        try await sms().filter { $0["direction"] == "outbound-reply" && $0["to"]?.stringValue == customer.phone }.count
    }

    private func delivered(to customers: [Customer]) async throws -> Bool {
        let messages = try await sms()
        return customers.allSatisfy { customer in
            messages.contains {
                $0["direction"] == "outbound-api" && $0["to"]?.stringValue == customer.phone
                    && $0["status"] == "delivered"
            }
        }
    }
}

extension Sequence where Element: Sendable {
    func asyncAllSatisfy(_ predicate: (Element) async throws -> Bool) async rethrows -> Bool {
        for element in self where try await !predicate(element) { return false }
        return true
    }
}
