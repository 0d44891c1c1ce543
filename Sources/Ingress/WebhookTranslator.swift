import Foundation
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardGorgias
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardStore

/// Turns provider webhooks into Switchboard events (architecture §1: the upstream systems feeding the topics).
/// Event ids are derived from the provider's ids, and every time in an event is the provider's own or the first
/// time the ingress saw the delivery (``WebhookReceipts``), so a webhook delivered twice becomes the same event
/// twice, byte for byte, which the workers' ledger skips.
public enum WebhookTranslator {
    /// A Twilio inbound-message webhook → `sms.message.received`, on `sms.consent` when it is a consent keyword by
    /// the provider's `OptOutType` or the account's vocabulary (`extraKeywords`), else on `sms.inbound`.
    /// Media URLs that fail `mediaAllowed` (the ingress allows https to public hosts and the account's own provider
    /// host) refuse the webhook.
    public static func inboundText(
        accountId: String, form: [(String, String)], receivedAt: Date = Date(),
        extraKeywords: ConsentKeyword.Vocabulary = .none,
        mediaAllowed: (String) -> Bool = { _ in true }
    ) throws -> OutgoingRecord {
        let fields = Fields(form)
        let sid = try fields.required("MessageSid")
        let count = Int(fields["NumMedia"] ?? "0") ?? 0
        let media = (0..<min(count, 10)).compactMap { index -> InboundText.Media? in
            guard let url = fields["MediaUrl\(index)"] else { return nil }
            return InboundText.Media(
                url: url, contentType: fields["MediaContentType\(index)"] ?? "application/octet-stream")
        }
        if let refused = media.first(where: { !mediaAllowed($0.url) }) {
            throw WebhookError("MediaUrl \(refused.url.prefix(80)) is not an https URL of a public host")
        }
        let text = InboundText(
            accountId: accountId, messageSid: sid, from: try fields.required("From"), to: try fields.required("To"),
            body: fields["Body"] ?? "", receivedAt: receivedAt, media: media,
            // Only the values Twilio documents; anything else is left to Switchboard's own matching.
            optOutType: fields["OptOutType"].flatMap(ConsentKeyword.init(providerType:))?.providerType
        )
        return text.record(
            id: sid, source: "twilio:inbound/\(accountId)", time: receivedAt, topic: text.topic(extra: extraKeywords))
    }

    /// A Twilio status callback → `sms.message.status`.
    public static func deliveryStatus(accountId: String, form: [(String, String)], at: Date = Date()) throws
        -> OutgoingRecord
    {
        let fields = Fields(form)
        let sid = try fields.required("MessageSid")
        let status = try fields.required("MessageStatus")
        let update = DeliveryUpdate(
            accountId: accountId, messageSid: sid, status: status, at: at,
            errorCode: fields["ErrorCode"].flatMap(Int.init),
            to: fields["To"], from: fields["From"]
        )
        return update.record(id: "twilio:\(sid):\(status)", source: "twilio:status/\(accountId)", time: at)
    }

    /// A Gorgias HTTP-integration call (the rendered form Switchboard registers) → the events it carries:
    /// `helpdesk.message.created` and/or `helpdesk.ticket.updated`; none for what Switchboard does not use. Values
    /// arrive as strings rendered by Jinja (`True`, `None`…).
    ///
    /// `event_type` (`{{event.type}}`) is only a hint: Gorgias' reference documents the ticket and message
    /// variables, and an `event` variable appears only in third-party material (contracts/gorgias/schemas/
    /// integration-http.schema.json). A known type selects its event; empty or unknown, the payload decides: a
    /// message id means a message was created, a ticket status that the ticket changed, and both go when both are
    /// there. Either is safe twice: the message event is keyed by the message id (the workers' ledger skips a
    /// repeat), the status by the ticket's update time (a stale one is ignored).
    public static func gorgiasEvents(accountId: String, body: JSONValue, receivedAt: Date = Date()) throws
        -> [OutgoingRecord]
    {
        guard let ticketId = Int64(text(body["ticket_id"]) ?? "") else { throw WebhookError("ticket_id is missing") }
        let messageId = text(body["message_id"]).flatMap { Int64($0) }
        let status = text(body["ticket_status"]).flatMap(TicketStatus.init(rawValue:))
        let wanted: (message: Bool, ticket: Bool)
        switch text(body["event_type"]) {
        case "ticket-message-created", "ticket_message_created":
            guard messageId != nil else { throw WebhookError("message_id is missing") }
            wanted = (true, false)
        case "ticket-updated", "ticket_updated", "ticket-created", "ticket_created", "ticket-self-unsnoozed",
            "ticket_self_unsnoozed":
            wanted = (false, true)
        case nil:
            wanted = (messageId != nil, status != nil)
        default:
            // A type Switchboard does not use (ticket-message-failed…): nothing, unless the payload says otherwise.
            return []
        }
        var records: [OutgoingRecord] = []
        if wanted.message, let messageId {
            let message = HelpdeskMessage(
                accountId: accountId, ticketId: ticketId, messageId: messageId,
                createdAt: text(body["message_created"]).flatMap(GorgiasDate.parse) ?? receivedAt,
                fromAgent: flag(body["from_agent"]), channel: text(body["message_channel"]),
                isPublic: flag(body["message_public"]),
                via: text(body["message_via"]), senderId: text(body["sender_id"]).flatMap { Int64($0) }
            )
            records.append(
                message.record(
                    id: "gorgias:\(accountId):message:\(messageId)", source: "gorgias:integration/\(accountId)",
                    time: receivedAt))
        }
        if wanted.ticket, let status {
            let updatedAt = text(body["updated"]).flatMap(GorgiasDate.parse) ?? receivedAt
            let update = TicketUpdate(
                accountId: accountId, ticketId: ticketId, status: status, updatedAt: updatedAt,
                snoozedUntil: text(body["snooze"]).flatMap(GorgiasDate.parse)
            )
            records.append(
                update.record(
                    id: "gorgias:\(accountId):ticket:\(ticketId):\(RFC3339.format(updatedAt, fractional: true))",
                    source: "gorgias:integration/\(accountId)", time: receivedAt))
        }
        return records
    }

    /// What identifies a Gorgias delivery for ``WebhookReceipts``: the event id Gorgias renders, else the message or
    /// the ticket and its update time, else the body itself.
    public static func gorgiasReceiptKey(_ body: JSONValue, body bytes: [UInt8]) -> String {
        if let event = text(body["event_id"]) { return "gorgias:event:\(event.prefix(200))" }
        let ticket = text(body["ticket_id"]) ?? "-"
        if let message = text(body["message_id"]) {
            return "gorgias:message:\(ticket.prefix(40)):\(message.prefix(40))"
        }
        if let updated = text(body["updated"]) { return "gorgias:ticket:\(ticket.prefix(40)):\(updated.prefix(64))" }
        return "gorgias:body:" + SHA256Digest.hex(bytes).prefix(32)
    }

    /// A templated value as text; Jinja renders missing values as `None`.
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)? where !text.isEmpty && text != "None" && text != "null": text
        case .int(let number)?: String(number)
        case .bool(let flag)?: flag ? "true" : "false"
        default: nil
        }
    }

    /// `true`, `"true"` and `"True"` are true (contracts/gorgias/schemas/integration-http.schema.json: rendered templates).
    static func flag(_ value: JSONValue?) -> Bool? {
        if case .bool(let flag)? = value { return flag }
        switch text(value)?.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: return nil
        }
    }

    struct Fields {
        let values: [String: String]
        init(_ form: [(String, String)]) { values = Dictionary(form, uniquingKeysWith: { _, last in last }) }
        subscript(_ name: String) -> String? { values[name].flatMap { $0.isEmpty ? nil : $0 } }
        func required(_ name: String) throws -> String {
            guard let value = self[name] else { throw WebhookError("\(name) is missing") }
            return value
        }
    }
}

/// A webhook the ingress cannot turn into an event (answered 400).
public struct WebhookError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
