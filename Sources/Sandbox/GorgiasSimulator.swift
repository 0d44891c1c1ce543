import Foundation
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardJSON

/// A reply the sandbox sends: status, headers, JSON body.
struct SandboxReply: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: JSONValue?
    var rawBody: [UInt8]?

    static func json(_ status: Int, _ body: JSONValue) -> SandboxReply { SandboxReply(status: status, body: body) }

    /// Gorgias' error shape: `{"error": {"msg": …, "data": …}}`.
    static func gorgiasError(_ status: Int, _ message: String, data: JSONValue? = nil) -> SandboxReply {
        var error: [String: JSONValue] = ["msg": .string(message)]
        if let data { error["data"] = data }
        return .json(status, ["error": .object(error)])
    }
}

/// The Gorgias REST API for one account (contracts/gorgias/), over the sandbox state.
enum GorgiasSimulator {
    static let pageDefault = 30
    static let pageMaximum = 100

    /// `POST tickets/{id}/messages`: the call with its ids left out, for counting calls by kind.
    static func operation(_ method: String, _ path: [String]) -> String {
        "\(method) " + path.map { Int64($0) == nil ? $0 : "{id}" }.joined(separator: "/")
    }

    /// Routes `method path` (the part after `/api/`) to a handler.
    static func handle(
        _ method: String,
        _ path: [String],
        query: [String: String],
        body: JSONValue?,
        account: inout GorgiasAccount,
        state: inout SandboxState
    ) -> (SandboxReply, [WebhookJob]) {
        account.callsByOperation[operation(method, path), default: 0] += 1
        switch (method, path.count, path.first) {
        case ("GET", 1, "account"):
            return (.json(200, ["domain": .string(account.subdomain), "status": ["status": "active"]]), [])
        case ("GET", 1, "customers"):
            return (listCustomers(query, account, ignoring: Set(state.faults.ignoredListFilters)), [])
        case ("PUT", 2, "customers") where path[1] == "merge": return mergeCustomers(body, &account, &state)
        case ("POST", 1, "customers"): return (createCustomer(body, &account, &state), [])
        case ("GET", 2, "customers"): return (withId(path[1]) { getCustomer($0, account) }, [])
        case ("PUT", 2, "customers"):
            return (withId(path[1]) { updateCustomer($0, body, &account, now: state.gorgiasNow) }, [])
        case ("GET", 1, "tickets"):
            return (listTickets(query, account, ignoring: Set(state.faults.ignoredListFilters)), [])
        case ("POST", 1, "tickets"): return createTicket(body, &account, &state)
        case ("GET", 2, "tickets"): return (withId(path[1]) { getTicket($0, account) }, [])
        case ("PUT", 2, "tickets"):
            guard let id = Int64(path[1]) else { return (.gorgiasError(404, "Resource not found."), []) }
            return updateTicket(id, body, &account, &state)
        case ("POST", 3, "tickets") where path[2] == "messages":
            guard let id = Int64(path[1]) else { return (.gorgiasError(404, "Resource not found."), []) }
            return createMessage(ticketId: id, body, &account, &state)
        case ("GET", 3, "tickets") where path[2] == "messages":
            return (withId(path[1]) { ticketMessages($0, query, account) }, [])
        case ("GET", 4, "tickets") where path[2] == "messages":
            guard let ticketId = Int64(path[1]), let messageId = Int64(path[3]) else {
                return (.gorgiasError(404, "Resource not found."), [])
            }
            return (getMessage(ticketId: ticketId, messageId: messageId, account), [])
        case ("GET", 1, "messages"):
            guard let ticketId = query["ticket_id"].flatMap(Int64.init) else {
                return (
                    .gorgiasError(400, "Invalid parameters", data: ["ticket_id": ["Missing data for required field."]]),
                    []
                )
            }
            return (ticketMessages(ticketId, query, account), [])
        case ("GET", 1, "integrations"):
            return (list(account.integrations.map(\.object), query, uri: "/api/integrations"), [])
        case ("POST", 1, "integrations"): return (createIntegration(body, &account, &state), [])
        case ("GET", 2, "integrations"):
            return (
                withId(path[1]) { id in
                    account.integrations.first { $0.id == id }.map { .json(200, $0.object) }
                        ?? .gorgiasError(404, "Resource not found.")
                }, []
            )
        case ("DELETE", 2, "integrations"):
            return (
                withId(path[1]) { id in
                    guard let index = account.integrations.firstIndex(where: { $0.id == id }) else {
                        return .gorgiasError(404, "Resource not found.")
                    }
                    account.integrations.remove(at: index)
                    return SandboxReply(status: 204)
                }, []
            )
        default:
            return (.gorgiasError(404, "Resource not found."), [])
        }
    }

    private static func withId(_ text: String, _ body: (Int64) -> SandboxReply) -> SandboxReply {
        guard let id = Int64(text) else { return .gorgiasError(404, "Resource not found.") }
        return body(id)
    }

    // MARK: Pagination

    /// The cursor envelope: `data`, `object`, `uri`, `meta.next_cursor`/`prev_cursor` (opaque base64 offsets).
    static func list(_ items: [JSONValue], _ query: [String: String], uri: String) -> SandboxReply {
        guard let limit = Int(query["limit"] ?? String(pageDefault)), (1...pageMaximum).contains(limit) else {
            return .gorgiasError(
                400, "Invalid parameters", data: ["limit": .array([.string("Must be between 1 and \(pageMaximum).")])])
        }
        var offset = 0
        if let cursor = query["cursor"] {
            guard let decoded = Data(base64Encoded: cursor).map({ String(decoding: $0, as: UTF8.self) }),
                decoded.hasPrefix("next:"),
                let value = Int(decoded.dropFirst(5)), value >= 0
            else { return .gorgiasError(400, "Invalid cursor") }
            offset = value
        }
        let page = Array(items.dropFirst(offset).prefix(limit))
        let next: JSONValue =
            offset + limit < items.count ? .string(Data("next:\(offset + limit)".utf8).base64EncodedString()) : .null
        let previous: JSONValue =
            offset > 0 ? .string(Data("next:\(max(0, offset - limit))".utf8).base64EncodedString()) : .null
        return .json(
            200,
            [
                "data": .array(page), "object": "list", "uri": .string(uri),
                "meta": ["next_cursor": next, "prev_cursor": previous],
            ])
    }

    // MARK: Customers

    /// Filters by `external_id`, `email`, `name`, `channel_type`+`channel_address`, except those in `ignoring` (a
    /// real account that ignores a filter returns everyone).
    static func listCustomers(_ query: [String: String], _ account: GorgiasAccount, ignoring: Set<String> = [])
        -> SandboxReply
    {
        var customers = account.customers
        let query = query.filter {
            !ignoring.contains($0.key) && !(ignoring.contains("channel_address") && $0.key == "channel_type")
        }
        if let externalId = query["external_id"] {
            customers = customers.filter { $0["external_id"]?.stringValue == externalId }
        }
        if let email = query["email"] {
            customers = customers.filter { $0["email"]?.stringValue?.lowercased() == email.lowercased() }
        }
        if let name = query["name"] { customers = customers.filter { $0["name"]?.stringValue == name } }
        if let address = query["channel_address"] {
            let type = query["channel_type"]
            customers = customers.filter { customer in
                (customer["channels"]?.arrayValue ?? []).contains { channel in
                    channel["address"]?.stringValue == address && (type == nil || channel["type"]?.stringValue == type)
                }
            }
        }
        return list(customers, query, uri: "/api/customers")
    }

    static func createCustomer(_ body: JSONValue?, _ account: inout GorgiasAccount, _ state: inout SandboxState)
        -> SandboxReply
    {
        guard let body = body?.objectValue else { return .gorgiasError(400, "Invalid JSON body") }
        if let email = body["email"]?.stringValue,
            account.customers.contains(where: { $0["email"]?.stringValue?.lowercased() == email.lowercased() })
        {
            return .gorgiasError(409, "Email already used by another customer.")
        }
        let now = state.gorgiasNow
        let id = state.allocateId()
        var channels: [JSONValue] = []
        for channel in body["channels"]?.arrayValue ?? [] {
            guard let type = channel["type"]?.stringValue, let address = channel["address"]?.stringValue else {
                return .gorgiasError(
                    400, "Failed to create customer", data: ["channels": ["Missing data for required field."]])
            }
            channels.append([
                "id": .int(state.allocateId()), "type": .string(type), "address": .string(address),
                "preferred": channel["preferred"] ?? false, "created_datetime": .string(now),
                "updated_datetime": .string(now),
                "deleted_datetime": nil,
            ])
        }
        let name = body["name"] ?? .null
        let customer: JSONValue = [
            "id": .int(id), "external_id": body["external_id"] ?? .null, "email": body["email"] ?? .null, "name": name,
            "firstname": .string(name.stringValue?.split(separator: " ").first.map(String.init) ?? ""),
            "lastname": .string(name.stringValue?.split(separator: " ").dropFirst().joined(separator: " ") ?? ""),
            "language": body["language"] ?? .null, "timezone": body["timezone"] ?? "UTC", "note": body["note"] ?? .null,
            "channels": .array(channels), "data": [:], "integrations": [:], "meta": body["meta"] ?? [:],
            "created_datetime": .string(now), "updated_datetime": .string(now),
        ]
        account.customers.append(customer)
        return .json(201, customer)
    }

    static func getCustomer(_ id: Int64, _ account: GorgiasAccount) -> SandboxReply {
        account.customerIndex(id).map { .json(200, account.customers[$0]) } ?? .gorgiasError(404, "Resource not found.")
    }

    /// Partial update; sending `channels` replaces them all (as documented).
    static func updateCustomer(_ id: Int64, _ body: JSONValue?, _ account: inout GorgiasAccount, now: String)
        -> SandboxReply
    {
        guard let index = account.customerIndex(id) else { return .gorgiasError(404, "Resource not found.") }
        guard let fields = body?.objectValue, case .object(var customer) = account.customers[index] else {
            return .gorgiasError(400, "Invalid JSON body")
        }
        for (key, value) in fields
        where ["name", "email", "external_id", "note", "language", "timezone", "channels", "meta"].contains(key) {
            customer[key] = value
        }
        customer["updated_datetime"] = .string(now)
        account.customers[index] = .object(customer)
        return .json(200, .object(customer))
    }

    /// `PUT /api/customers/merge {source_id, target_id}`: the target gains the source's channels and tickets; the
    /// source is gone, its `external_id` with it, and any `/api/customers/{source}/…` call answers 301 to the target
    /// with an empty body (contracts/gorgias/operations.json, "merged").
    static func mergeCustomers(_ body: JSONValue?, _ account: inout GorgiasAccount, _ state: inout SandboxState) -> (
        SandboxReply, [WebhookJob]
    ) {
        guard let source = body?["source_id"]?.intValue, let target = body?["target_id"]?.intValue, source != target,
            let sourceIndex = account.customerIndex(source), let targetIndex = account.customerIndex(target),
            case .object(var merged) = account.customers[targetIndex]
        else {
            return (
                .gorgiasError(
                    400, "Invalid parameters", data: ["source_id": ["Two different existing customers are required."]]),
                []
            )
        }
        let moved = account.customers[sourceIndex]["channels"]?.arrayValue ?? []
        merged["channels"] = .array((merged["channels"]?.arrayValue ?? []) + moved)
        merged["updated_datetime"] = .string(state.gorgiasNow)
        account.customers[targetIndex] = .object(merged)
        account.customers.remove(at: sourceIndex)
        account.mergedCustomers = (account.mergedCustomers ?? [:]).merging([source: target]) { _, new in new }
        for index in account.tickets.indices where account.tickets[index]["customer"]?["id"]?.intValue == source {
            if case .object(var ticket) = account.tickets[index] {
                ticket["customer"] = customerSummary(.object(merged))
                account.tickets[index] = .object(ticket)
            }
        }
        return (.json(200, .object(merged)), [])
    }

    /// Merges ticket `source` into `target`, as an agent does in Gorgias: the messages move to the target, the source
    /// is gone (any `/api/tickets/{source}/…` call answers 301 to the target), and the target's integrations hear of
    /// the update.
    static func mergeTickets(source: Int64, target: Int64, _ account: inout GorgiasAccount, _ state: inout SandboxState)
        -> (SandboxReply, [WebhookJob])
    {
        guard source != target, let sourceIndex = account.ticketIndex(source), account.ticketIndex(target) != nil else {
            return (.gorgiasError(400, "Two different existing tickets are required."), [])
        }
        let moved = account.tickets[sourceIndex]["messages"]?.arrayValue ?? []
        account.tickets.remove(at: sourceIndex)
        account.mergedTickets = (account.mergedTickets ?? [:]).merging([source: target]) { _, new in new }
        let targetIndex = account.ticketIndex(target)!
        guard case .object(var ticket) = account.tickets[targetIndex] else {
            return (.gorgiasError(500, "corrupt ticket"), [])
        }
        let messages = ((ticket["messages"]?.arrayValue ?? []) + moved).sorted {
            ($0["created_datetime"]?.stringValue ?? "") < ($1["created_datetime"]?.stringValue ?? "")
        }
        ticket["messages"] = .array(messages)
        ticket["messages_count"] = .int(Int64(messages.count))
        ticket["updated_datetime"] = .string(state.gorgiasNow)
        account.tickets[targetIndex] = .object(ticket)
        let jobs = integrationEvents(
            "ticket-updated", ticket: .object(ticket), message: nil, account: account, state: &state)
        return (.json(200, .object(ticket)), jobs)
    }

    /// The 301 a call on a merged ticket or customer gets (contracts/gorgias/operations.json, "merged"): the same
    /// path and query on the surviving object, at `base` (`https://{subdomain}.gorgias.com`); a customer's with an
    /// empty body. Nil when the call is about nothing merged.
    static func mergedRedirect(_ path: [String], query: [(String, String)], _ account: GorgiasAccount, base: String)
        -> SandboxReply?
    {
        guard path.count >= 2, let id = Int64(path[1]) else { return nil }
        let survivor: Int64?
        var reply = SandboxReply(status: 301)
        switch path[0] {
        case "tickets": survivor = GorgiasAccount.survivor(of: id, in: account.mergedTickets)
        case "customers": survivor = GorgiasAccount.survivor(of: id, in: account.mergedCustomers)
        default: return nil
        }
        guard let survivor else { return nil }
        if path[0] == "tickets" { reply.body = ["error": ["msg": "Moved Permanently"]] }
        var location = base + "/api/" + ([path[0], String(survivor)] + path.dropFirst(2)).joined(separator: "/")
        if !query.isEmpty { location += "?" + FormEncoding.encode(query) }
        reply.headers = [("Location", location)]
        return reply
    }

    // MARK: Tickets

    /// Lists tickets as `TicketCompact` (no messages). Filters `customer_id`, `external_id`; there is no status
    /// filter, as in the real API.
    static func listTickets(_ query: [String: String], _ account: GorgiasAccount, ignoring: Set<String> = [])
        -> SandboxReply
    {
        var tickets = account.tickets
        let query = query.filter { !ignoring.contains($0.key) }
        if let customerId = query["customer_id"].flatMap(Int64.init) {
            tickets = tickets.filter { $0["customer"]?["id"]?.intValue == customerId }
        }
        if let externalId = query["external_id"] {
            tickets = tickets.filter { $0["external_id"]?.stringValue == externalId }
        }
        let order = query["order_by"] ?? "created_datetime:desc"
        let field = String(order.split(separator: ":").first ?? "created_datetime")
        let descending = order.hasSuffix(":desc")
        tickets.sort { left, right in
            let l = left[field]?.stringValue ?? ""
            let r = right[field]?.stringValue ?? ""
            return l == r ? (left["id"]?.intValue ?? 0) > (right["id"]?.intValue ?? 0) : (descending ? l > r : l < r)
        }
        let compact = tickets.map { ticket -> JSONValue in
            guard case .object(var fields) = ticket else { return ticket }
            fields["messages"] = nil
            return .object(fields)
        }
        return list(compact, query, uri: "/api/tickets")
    }

    static func getTicket(_ id: Int64, _ account: GorgiasAccount) -> SandboxReply {
        account.ticketIndex(id).map { .json(200, account.tickets[$0]) } ?? .gorgiasError(404, "Resource not found.")
    }

    static func createTicket(_ body: JSONValue?, _ account: inout GorgiasAccount, _ state: inout SandboxState) -> (
        SandboxReply, [WebhookJob]
    ) {
        guard let body = body?.objectValue else { return (.gorgiasError(400, "Invalid JSON body"), []) }
        var problems: [String: JSONValue] = [:]
        let messages = body["messages"]?.arrayValue ?? []
        if messages.isEmpty || messages.count > 500 { problems["messages"] = ["Length must be between 1 and 500."] }
        guard let customerRef = body["customer"]?.objectValue, let customer = findCustomer(customerRef, account) else {
            problems["customer"] = ["Missing data for required field."]
            return (.gorgiasError(400, "Failed to create ticket", data: .object(problems)), [])
        }
        if !problems.isEmpty { return (.gorgiasError(400, "Failed to create ticket", data: .object(problems)), []) }
        if let subject = body["subject"]?.stringValue, subject.count > 998 {
            return (
                .gorgiasError(400, "Failed to create ticket", data: ["subject": ["Longer than maximum length 998."]]),
                []
            )
        }
        let now = state.gorgiasNow
        let ticketId = state.allocateId()
        var built: [JSONValue] = []
        for (index, message) in messages.enumerated() {
            switch buildMessage(message, ticketId: ticketId, account: account, state: &state, now: now) {
            case .success(let value): built.append(value)
            case .failure(let problem):
                return (.gorgiasError(400, "Failed to create ticket", data: ["messages.\(index)": problem.data]), [])
            }
        }
        let tags: [JSONValue] = (body["tags"]?.arrayValue ?? []).compactMap { tag in
            tag["name"].map { ["id": .int(state.allocateId()), "name": $0] }
        }
        let ticket: JSONValue = [
            "id": .int(ticketId), "uri": .string("/api/tickets/\(ticketId)/"),
            "external_id": body["external_id"] ?? .null,
            "status": body["status"] ?? "open", "priority": body["priority"] ?? "normal",
            "channel": body["channel"] ?? "api",
            "via": body["via"] ?? "api", "from_agent": body["from_agent"] ?? false, "spam": false,
            "subject": body["subject"]
                ?? .string(built.first?["body_text"]?.stringValue.map { String($0.prefix(60)) } ?? ""),
            "customer": customerSummary(customer), "assignee_user": nil, "assignee_team": nil, "tags": .array(tags),
            "meta": body["meta"] ?? [:],
            "language": "en", "messages": .array(built), "messages_count": .int(Int64(built.count)), "is_unread": true,
            "created_datetime": .string(now), "opened_datetime": nil, "last_message_datetime": .string(now),
            "last_received_message_datetime": .string(now), "updated_datetime": .string(now),
            "closed_datetime": body["status"]?.stringValue == "closed" ? .string(now) : nil, "snooze_datetime": nil,
            "trashed_datetime": nil,
        ]
        account.tickets.append(ticket)
        var jobs = integrationEvents("ticket-created", ticket: ticket, message: nil, account: account, state: &state)
        for message in built {
            jobs += integrationEvents(
                "ticket-message-created", ticket: ticket, message: message, account: account, state: &state)
        }
        return (.json(201, ticket), jobs)
    }

    /// Partial update of status, snooze, subject, external id and tags (tags replace all).
    static func updateTicket(
        _ id: Int64, _ body: JSONValue?, _ account: inout GorgiasAccount, _ state: inout SandboxState
    ) -> (SandboxReply, [WebhookJob]) {
        guard let index = account.ticketIndex(id) else { return (.gorgiasError(404, "Resource not found."), []) }
        guard let fields = body?.objectValue, case .object(var ticket) = account.tickets[index] else {
            return (.gorgiasError(400, "Invalid JSON body"), [])
        }
        if let status = fields["status"] {
            guard let value = status.stringValue, ["open", "closed"].contains(value) else {
                return (
                    .gorgiasError(400, "Invalid parameters", data: ["status": ["Must be one of: open, closed."]]), []
                )
            }
        }
        let now = state.gorgiasNow
        for (key, value) in fields
        where ["status", "snooze_datetime", "subject", "external_id", "priority", "meta", "tags"].contains(key) {
            ticket[key] = value
        }
        if let status = fields["status"]?.stringValue {
            ticket["closed_datetime"] = status == "closed" ? .string(now) : .null
            if status == "open" { ticket["snooze_datetime"] = fields["snooze_datetime"] ?? .null }
        }
        ticket["updated_datetime"] = .string(now)
        account.tickets[index] = .object(ticket)
        let jobs = integrationEvents(
            "ticket-updated", ticket: .object(ticket), message: nil, account: account, state: &state)
        return (.json(200, .object(ticket)), jobs)
    }

    /// Snoozed tickets whose snooze time has passed (on the sandbox Gorgias' clock) open again, as in Gorgias
    /// ("snoozed tickets are considered closed until the snooze time ends"), and their integrations hear of it.
    static func endSnoozes(_ account: inout GorgiasAccount, _ state: inout SandboxState) -> [WebhookJob] {
        let now = Date().addingTimeInterval(state.faults.gorgiasClockOffsetSeconds)
        var jobs: [WebhookJob] = []
        for index in account.tickets.indices {
            guard case .object(var ticket) = account.tickets[index],
                let until = ticket["snooze_datetime"]?.stringValue.flatMap(GorgiasDate.parse),
                until <= now
            else { continue }
            ticket["snooze_datetime"] = nil
            ticket["status"] = "open"
            ticket["closed_datetime"] = nil
            ticket["updated_datetime"] = .string(SandboxTime.gorgias(until))
            account.tickets[index] = .object(ticket)
            jobs += integrationEvents(
                "ticket-self-unsnoozed", ticket: .object(ticket), message: nil, account: account, state: &state)
        }
        return jobs
    }

    // MARK: Messages

    /// Adds a message. A customer message on a closed ticket reopens it only when ``SandboxFaults/customerMessageReopens``
    /// is on (Gorgias' documents do not say it does).
    static func createMessage(
        ticketId: Int64, _ body: JSONValue?, _ account: inout GorgiasAccount, _ state: inout SandboxState
    ) -> (SandboxReply, [WebhookJob]) {
        guard let index = account.ticketIndex(ticketId) else { return (.gorgiasError(404, "Resource not found."), []) }
        guard let body else { return (.gorgiasError(400, "Invalid JSON body"), []) }
        let now = state.gorgiasNow
        let message: JSONValue
        switch buildMessage(body, ticketId: ticketId, account: account, state: &state, now: now) {
        case .success(let value): message = value
        case .failure(let problem): return (.gorgiasError(400, "Failed to create message", data: problem.data), [])
        }
        guard case .object(var ticket) = account.tickets[index] else {
            return (.gorgiasError(500, "corrupt ticket"), [])
        }
        ticket["messages"] = .array((ticket["messages"]?.arrayValue ?? []) + [message])
        ticket["messages_count"] = .int(Int64(ticket["messages"]?.arrayValue?.count ?? 0))
        ticket["last_message_datetime"] = .string(now)
        ticket["updated_datetime"] = .string(now)
        var jobs: [WebhookJob] = []
        let fromCustomer =
            message["from_agent"]?.boolValue == false && message["channel"]?.stringValue != "internal-note"
        if fromCustomer {
            ticket["last_received_message_datetime"] = .string(now)
            if ticket["status"]?.stringValue == "closed" && state.faults.customerMessageReopens {
                ticket["status"] = "open"
                ticket["closed_datetime"] = nil
                ticket["snooze_datetime"] = nil
                account.tickets[index] = .object(ticket)
                jobs += integrationEvents(
                    "ticket-updated", ticket: .object(ticket), message: nil, account: account, state: &state)
            }
        }
        account.tickets[index] = .object(ticket)
        jobs += integrationEvents(
            "ticket-message-created", ticket: .object(ticket), message: message, account: account, state: &state)
        return (.json(201, message), jobs)
    }

    static func getMessage(ticketId: Int64, messageId: Int64, _ account: GorgiasAccount) -> SandboxReply {
        guard let index = account.ticketIndex(ticketId),
            let message = account.tickets[index]["messages"]?.arrayValue?.first(where: {
                $0["id"]?.intValue == messageId
            })
        else { return .gorgiasError(404, "Resource not found.") }
        return .json(200, message)
    }

    static func ticketMessages(_ ticketId: Int64, _ query: [String: String], _ account: GorgiasAccount) -> SandboxReply
    {
        guard let index = account.ticketIndex(ticketId) else { return .gorgiasError(404, "Resource not found.") }
        return list(
            account.tickets[index]["messages"]?.arrayValue ?? [], query, uri: "/api/messages?ticket_id=\(ticketId)")
    }

    struct Problem: Error {
        var data: JSONValue
    }

    /// Validates and completes a message: `channel` and `from_agent` are required; a customer message's `sender`
    /// must be a customer; internal notes are never public; `sent_datetime` given means imported as sent.
    static func buildMessage(
        _ body: JSONValue, ticketId: Int64, account: GorgiasAccount, state: inout SandboxState, now: String
    ) -> Result<JSONValue, Problem> {
        guard let fields = body.objectValue else { return .failure(Problem(data: ["body": ["Invalid JSON."]])) }
        var missing: [String: JSONValue] = [:]
        if fields["channel"]?.stringValue == nil { missing["channel"] = ["Missing data for required field."] }
        if fields["from_agent"]?.boolValue == nil { missing["from_agent"] = ["Missing data for required field."] }
        if !missing.isEmpty { return .failure(Problem(data: .object(missing))) }
        let channel = fields["channel"]!.stringValue!
        let fromAgent = fields["from_agent"]!.boolValue!
        let isNote = channel == "internal-note"
        var sender = fields["sender"] ?? .null
        if !fromAgent && !isNote {
            guard let reference = sender.objectValue, let customer = findCustomer(reference, account) else {
                return .failure(Problem(data: ["sender": ["A customer message needs a sender that is a customer."]]))
            }
            sender = customerSummary(customer)
        } else if sender.isNull {
            sender = [
                "id": 1, "email": .string(account.email ?? "api@\(account.subdomain).gorgias.com"), "name": "API user",
            ]
        }
        let text = fields["body_text"]?.stringValue ?? fields["body_html"]?.stringValue ?? ""
        let attachments: [JSONValue] = (fields["attachments"]?.arrayValue ?? []).map { attachment in
            [
                "url": attachment["url"] ?? "", "name": attachment["name"] ?? nil,
                "content_type": attachment["content_type"] ?? nil, "size": attachment["size"] ?? nil,
            ]
        }
        return .success([
            "id": .int(state.allocateId()), "uri": .string("/api/tickets/\(ticketId)/messages/"),
            "ticket_id": .int(ticketId),
            "message_id": nil, "external_id": fields["external_id"] ?? .null,
            "public": isNote ? false : (fields["public"] ?? true),
            "channel": .string(channel), "via": fields["via"] ?? "api", "from_agent": .bool(fromAgent),
            "integration_id": nil, "rule_id": fields["rule_id"] ?? .null, "sender": sender,
            "receiver": fields["receiver"] ?? .null,
            "source": fields["source"] ?? .null, "subject": fields["subject"] ?? "", "body_text": .string(text),
            "body_html": fields["body_html"] ?? .string("<div>\(text)</div>"), "stripped_text": .string(text),
            "attachments": .array(attachments), "created_datetime": .string(now),
            "sent_datetime": fields["sent_datetime"] ?? .null,
            "failed_datetime": nil, "opened_datetime": nil, "last_sending_error": nil, "is_retriable": true,
        ])
    }

    static func findCustomer(_ reference: [String: JSONValue], _ account: GorgiasAccount) -> JSONValue? {
        if let id = reference["id"]?.intValue { return account.customerIndex(id).map { account.customers[$0] } }
        if let email = reference["email"]?.stringValue {
            return account.customers.first { $0["email"]?.stringValue == email }
        }
        return nil
    }

    static func customerSummary(_ customer: JSONValue) -> JSONValue {
        [
            "id": customer["id"] ?? nil, "email": customer["email"] ?? nil, "name": customer["name"] ?? nil,
            "firstname": customer["firstname"] ?? nil, "lastname": customer["lastname"] ?? nil,
        ]
    }

    // MARK: Files

    /// `POST /api/upload?type=attachment` with a multipart file: stored, and answered as a list of File objects, with
    /// `size` a string of digits as in the reference's File example (contracts/gorgias/schemas/file.schema.json).
    static func upload(
        _ file: (filename: String, contentType: String, bytes: [UInt8])?, filesURL: String,
        account: inout GorgiasAccount, state: inout SandboxState
    ) -> SandboxReply {
        account.callsByOperation["POST upload", default: 0] += 1
        guard let file, !file.bytes.isEmpty else {
            return .gorgiasError(400, "Failed to upload", data: ["file": ["Missing data for required field."]])
        }
        guard file.bytes.count <= 20 * 1024 * 1024 else { return .gorgiasError(413, "Payload too large") }
        let id = String(state.allocateId())
        account.files[id] = StoredFile(name: file.filename, contentType: file.contentType, bytes: file.bytes)
        let url =
            "\(filesURL)/\(id)/\(file.filename.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "file")"
        return .json(
            201,
            [
                [
                    "url": .string(url), "name": .string(file.filename), "content_type": .string(file.contentType),
                    "size": .string(String(file.bytes.count)),
                ]
            ])
    }

    // MARK: HTTP integrations

    static func createIntegration(_ body: JSONValue?, _ account: inout GorgiasAccount, _ state: inout SandboxState)
        -> SandboxReply
    {
        guard let body, body["type"]?.stringValue == "http", let http = body["http"]?.objectValue,
            http["url"]?.stringValue != nil
        else {
            return .gorgiasError(
                400, "Failed to create integration", data: ["http": ["An http integration needs http.url."]])
        }
        // Only the current reference's trigger keys (contracts/gorgias/schemas/integration-triggers.schema.json).
        let triggers = http["triggers"]?.objectValue ?? [:]
        if let unknown = triggers.keys.sorted().first(where: { !integrationTriggers.contains($0) }) {
            return .gorgiasError(
                400, "Failed to create integration",
                data: ["http.triggers": .array([.string("Unknown trigger \(unknown).")])])
        }
        if triggers.isEmpty || triggers.values.contains(where: { $0.boolValue == nil }) {
            return .gorgiasError(
                400, "Failed to create integration",
                data: ["http.triggers": ["Triggers must map trigger names to true or false."]])
        }
        var kept = http
        if state.faults.dropIntegrationTriggers { kept["triggers"] = [:] }
        let object: JSONValue = [
            "id": .int(state.allocateId()), "name": body["name"] ?? "HTTP integration", "type": "http",
            "http": .object(kept),
            "created_datetime": .string(state.gorgiasNow), "deactivated_datetime": nil,
        ]
        account.integrations.append(GorgiasAccount.Integration(object: object))
        return .json(201, object)
    }

    /// The HTTP integration triggers Gorgias' current reference names.
    static let integrationTriggers: Set<String> = [
        "ticket-created", "ticket-updated", "ticket-message-created", "ticket-self-unsnoozed", "ticket-message-failed",
    ]

    /// Renders every active integration subscribed to `trigger` for this event. The context holds the ticket (and
    /// the message), as the reference documents; an `event` variable only with the `integrationEventContext` fault,
    /// since only third-party material shows one.
    static func integrationEvents(
        _ trigger: String, ticket: JSONValue, message: JSONValue?, account: GorgiasAccount, state: inout SandboxState
    ) -> [WebhookJob] {
        var jobs: [WebhookJob] = []
        for integration in account.integrations where integration.isActive {
            let http = integration.object["http"] ?? [:]
            guard http["triggers"]?[trigger]?.boolValue == true, let url = http["url"]?.stringValue else { continue }
            var compact = ticket.objectValue ?? [:]
            compact["messages"] = nil
            compact["customer_id"] = ticket["customer"]?["id"] ?? nil
            var context: [String: JSONValue] = ["ticket": .object(compact)]
            if state.faults.integrationEventContext {
                context["event"] = [
                    "id": .int(state.allocateId()), "type": .string(trigger), "object_id": ticket["id"] ?? nil,
                    "user_id": nil,
                ]
            }
            if let message { context["message"] = message }
            let rendered = TemplateRenderer.render(http["form"] ?? "{{context}}", context: .object(context))
            let headers = (http["headers"]?.objectValue ?? [:]).compactMap { key, value in
                value.stringValue.map { (key, $0) }
            }
            jobs.append(
                WebhookJob(
                    kind: .integration(subdomain: account.subdomain, integrationId: integration.id), url: url,
                    headers: headers + [("Content-Type", "application/json")], body: rendered.canonicalBytes()
                ))
        }
        return jobs
    }
}

/// Gorgias renders HTTP-integration templates with Jinja: `{{ticket.id}}` becomes text, booleans render as Python
/// does (`True`/`False`), missing values as `None`; `{{context}}` alone is the whole context object.
enum TemplateRenderer {
    static func render(_ template: JSONValue, context: JSONValue) -> JSONValue {
        switch template {
        case .string(let text):
            if text.trimmingCharacters(in: .whitespaces) == "{{context}}" { return context }
            return .string(substitute(text, context))
        case .array(let items): return .array(items.map { render($0, context: context) })
        case .object(let members): return .object(members.mapValues { render($0, context: context) })
        default: return template
        }
    }

    static func substitute(_ text: String, _ context: JSONValue) -> String {
        var output = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                output += rest[open.lowerBound...]
                return output
            }
            let path = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            output += python(lookup(path, in: context))
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    static func lookup(_ path: String, in context: JSONValue) -> JSONValue? {
        var current: JSONValue? = context
        for component in path.split(separator: ".") {
            current = current?[String(component)]
        }
        return current
    }

    static func python(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: "None"
        case .bool(let flag)?: flag ? "True" : "False"
        case .string(let text)?: text
        case .int(let number)?: String(number)
        case .double(let number)?: String(number)
        case let other?: other.serialized()
        }
    }
}
