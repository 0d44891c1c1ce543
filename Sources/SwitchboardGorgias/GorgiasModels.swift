import Foundation
import SwitchboardDomain

/// Gorgias REST API objects (contracts/gorgias/), decoded leniently: unknown fields are ignored, optional ones may
/// be absent. Field names follow the API (snake_case via CodingKeys).
public struct GorgiasCustomerChannel: Codable, Sendable, Hashable {
    public var id: Int64?
    public var type: String
    public var address: String
    public var preferred: Bool?

    public init(id: Int64? = nil, type: String, address: String, preferred: Bool? = nil) {
        self.id = id
        self.type = type
        self.address = address
        self.preferred = preferred
    }
}

public struct GorgiasCustomer: Codable, Sendable, Hashable {
    public var id: Int64
    public var externalId: String?
    public var email: String?
    public var name: String?
    public var channels: [GorgiasCustomerChannel]?
    public var createdDatetime: String?
    public var updatedDatetime: String?

    enum CodingKeys: String, CodingKey {
        case id, email, name, channels
        case externalId = "external_id"
        case createdDatetime = "created_datetime"
        case updatedDatetime = "updated_datetime"
    }

    public init(
        id: Int64, externalId: String?, email: String?, name: String?, channels: [GorgiasCustomerChannel]?,
        createdDatetime: String? = nil, updatedDatetime: String? = nil
    ) {
        self.id = id
        self.externalId = externalId
        self.email = email
        self.name = name
        self.channels = channels
        self.createdDatetime = createdDatetime
        self.updatedDatetime = updatedDatetime
    }
}

/// A reference to a user or customer (`sender`, `receiver`, `customer` on tickets).
public struct GorgiasPersonRef: Codable, Sendable, Hashable {
    public var id: Int64?
    public var email: String?
    public var name: String?

    public init(id: Int64? = nil, email: String? = nil, name: String? = nil) {
        self.id = id
        self.email = email
        self.name = name
    }
}

public struct GorgiasAddress: Codable, Sendable, Hashable {
    public var address: String
    public var name: String?

    public init(address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }
}

public struct GorgiasMessageSource: Codable, Sendable, Hashable {
    public var type: String?
    public var from: GorgiasAddress?
    public var to: [GorgiasAddress]?

    public init(type: String?, from: GorgiasAddress?, to: [GorgiasAddress]?) {
        self.type = type
        self.from = from
        self.to = to
    }
}

/// A file on Gorgias (an upload's answer, a message's attachment). The reference types `size` as an integer but its
/// example gives a string of digits (contracts/gorgias/schemas/file.schema.json): both decode.
public struct GorgiasAttachment: Codable, Sendable, Hashable {
    public var url: String
    public var name: String?
    public var contentType: String?
    public var size: Int?

    enum CodingKeys: String, CodingKey {
        case url, name, size
        case contentType = "content_type"
    }

    public init(url: String, name: String? = nil, contentType: String? = nil, size: Int? = nil) {
        self.url = url
        self.name = name
        self.contentType = contentType
        self.size = size
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decode(String.self, forKey: .url)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        contentType = try container.decodeIfPresent(String.self, forKey: .contentType)
        if let number = try? container.decodeIfPresent(Int.self, forKey: .size) {
            size = number
        } else {
            size = try? container.decodeIfPresent(String.self, forKey: .size).flatMap { Int($0) }
        }
    }
}

public struct GorgiasMessage: Codable, Sendable, Hashable {
    public var id: Int64
    public var ticketId: Int64?
    public var externalId: String?
    public var `public`: Bool?
    public var channel: String?
    public var via: String?
    public var fromAgent: Bool?
    public var ruleId: Int64?
    public var integrationId: Int64?
    public var sender: GorgiasPersonRef?
    public var receiver: GorgiasPersonRef?
    public var source: GorgiasMessageSource?
    public var bodyText: String?
    public var bodyHTML: String?
    public var strippedText: String?
    public var attachments: [GorgiasAttachment]?
    public var createdDatetime: String?
    public var sentDatetime: String?
    public var failedDatetime: String?

    enum CodingKeys: String, CodingKey {
        case id, `public`, channel, via, sender, receiver, source, attachments
        case ticketId = "ticket_id"
        case externalId = "external_id"
        case fromAgent = "from_agent"
        case ruleId = "rule_id"
        case integrationId = "integration_id"
        case bodyText = "body_text"
        case bodyHTML = "body_html"
        case strippedText = "stripped_text"
        case createdDatetime = "created_datetime"
        case sentDatetime = "sent_datetime"
        case failedDatetime = "failed_datetime"
    }

    public var isInternalNote: Bool { channel == "internal-note" || `public` == false }
}

/// What Switchboard keeps of a message it created: its id and the ticket it landed on (decoding only those keeps a
/// busy worker's CPU down). The ticket differs from the one asked for when Gorgias redirected the call to the ticket
/// a merge kept.
public struct GorgiasCreatedMessage: Codable, Sendable, Hashable {
    public var id: Int64
    public var ticketId: Int64?

    enum CodingKeys: String, CodingKey {
        case id
        case ticketId = "ticket_id"
    }

    public init(id: Int64, ticketId: Int64? = nil) {
        self.id = id
        self.ticketId = ticketId
    }
}

/// A ticket as `GET /api/tickets/{id}` returns it (with messages) or as lists return it (without).
public struct GorgiasTicket: Codable, Sendable, Hashable {
    public var id: Int64
    public var externalId: String?
    public var status: String
    public var channel: String?
    public var via: String?
    public var subject: String?
    public var customer: GorgiasPersonRef?
    public var messages: [GorgiasMessage]?
    public var createdDatetime: String?
    public var updatedDatetime: String?
    public var closedDatetime: String?
    public var snoozeDatetime: String?

    enum CodingKeys: String, CodingKey {
        case id, status, channel, via, subject, customer, messages
        case externalId = "external_id"
        case createdDatetime = "created_datetime"
        case updatedDatetime = "updated_datetime"
        case closedDatetime = "closed_datetime"
        case snoozeDatetime = "snooze_datetime"
    }
}

/// The cursor-paginated list envelope (`data`, `meta.next_cursor`).
public struct GorgiasList<Item: Codable & Sendable>: Codable, Sendable {
    public struct Meta: Codable, Sendable {
        public var nextCursor: String?
        public var prevCursor: String?

        enum CodingKeys: String, CodingKey {
            case nextCursor = "next_cursor"
            case prevCursor = "prev_cursor"
        }
    }

    public var data: [Item]
    public var object: String?
    public var uri: String?
    public var meta: Meta?
}

public struct GorgiasIntegration: Codable, Sendable, Hashable {
    public var id: Int64
    public var name: String?
    public var type: String?
    public var deactivatedDatetime: String?
    public var http: HTTP?

    /// An HTTP integration's configuration, as far as Switchboard reads it back.
    public struct HTTP: Codable, Sendable, Hashable {
        public var url: String?
        public var triggers: [String: Bool]?
    }

    /// Gorgias sends events through it: not deactivated (after 100 failed deliveries, or by an admin).
    public var isActive: Bool { deactivatedDatetime == nil }

    /// The triggers Gorgias kept, as it answers them.
    public var triggers: [String: Bool]? { http?.triggers }

    enum CodingKeys: String, CodingKey {
        case id, name, type, http
        case deactivatedDatetime = "deactivated_datetime"
    }
}

/// A Gorgias message to create (`POST /api/tickets` first message or `POST /api/tickets/{id}/messages`).
public struct GorgiasNewMessage: Codable, Sendable, Hashable {
    public var channel: String
    public var via: String
    public var fromAgent: Bool
    public var `public`: Bool?
    public var sender: GorgiasPersonRef?
    public var source: GorgiasMessageSource?
    public var bodyText: String
    public var bodyHTML: String?
    public var externalId: String?
    public var sentDatetime: String?
    public var attachments: [GorgiasAttachment]?

    enum CodingKeys: String, CodingKey {
        case channel, via, sender, source, attachments, `public`
        case fromAgent = "from_agent"
        case bodyText = "body_text"
        case bodyHTML = "body_html"
        case externalId = "external_id"
        case sentDatetime = "sent_datetime"
    }

    public init(
        channel: String, via: String, fromAgent: Bool, public isPublic: Bool? = nil, sender: GorgiasPersonRef?,
        source: GorgiasMessageSource? = nil, bodyText: String, bodyHTML: String? = nil, externalId: String? = nil,
        sentDatetime: String? = nil, attachments: [GorgiasAttachment]? = nil
    ) {
        self.channel = channel
        self.via = via
        self.fromAgent = fromAgent
        self.public = isPublic
        self.sender = sender
        self.source = source
        self.bodyText = bodyText
        self.bodyHTML = bodyHTML
        self.externalId = externalId
        self.sentDatetime = sentDatetime
        self.attachments = attachments
    }
}

/// `POST /api/tickets` body.
public struct GorgiasNewTicket: Codable, Sendable, Hashable {
    public var channel: String
    public var via: String
    public var fromAgent: Bool
    public var status: String
    public var subject: String
    public var externalId: String?
    public var customer: GorgiasPersonRef
    public var tags: [[String: String]]?
    public var messages: [GorgiasNewMessage]

    enum CodingKeys: String, CodingKey {
        case channel, via, status, subject, customer, tags, messages
        case fromAgent = "from_agent"
        case externalId = "external_id"
    }

    public init(
        channel: String, via: String, fromAgent: Bool, status: String, subject: String, externalId: String?,
        customer: GorgiasPersonRef, tags: [[String: String]]?, messages: [GorgiasNewMessage]
    ) {
        self.channel = channel
        self.via = via
        self.fromAgent = fromAgent
        self.status = status
        self.subject = subject
        self.externalId = externalId
        self.customer = customer
        self.tags = tags
        self.messages = messages
    }
}

extension GorgiasCustomer {
    /// Whether one of the customer's phone channels is `phone` (digits compared, formatting ignored).
    public func hasPhone(_ phone: String) -> Bool {
        let wanted = phone.filter(\.isNumber)
        return (channels ?? []).contains { $0.type == "phone" && $0.address.filter(\.isNumber) == wanted }
    }
}

extension GorgiasTicket {
    /// The status this ticket shows, stamped with Gorgias' own `updated_datetime`, never the worker's clock (a skewed
    /// clock would make an agent's later reopen look older than Switchboard's close). Nil without a time or status.
    public func statusChange(accountId: String) -> TicketStatusChange? {
        guard let updated = updatedDatetime.flatMap(GorgiasDate.parse), let status = TicketStatus(rawValue: status)
        else { return nil }
        return TicketStatusChange(
            accountId: accountId, ticketId: id, status: status, snoozedUntil: snoozeDatetime.flatMap(GorgiasDate.parse),
            updatedAt: updated
        )
    }
}
