import Foundation
import SwitchboardJSON

/// `helpdesk.message.created`: a message was added to a Gorgias ticket. Everything but the ids and time is a hint;
/// the worker re-reads the message through the API.
public struct HelpdeskMessage: EventPayload {
    public static let kind = EventKind.helpdeskMessage

    public var accountId: String
    public var ticketId: Int64
    public var messageId: Int64
    public var createdAt: Date
    public var fromAgent: Bool?
    public var channel: String?
    public var isPublic: Bool?
    public var via: String?
    public var senderId: Int64?
    public var bodyText: String?
    /// The message's files as the producer listed them (a hint, like the rest).
    public var attachments: [Attachment]?

    /// A file attached to a helpdesk message.
    public struct Attachment: Sendable, Hashable {
        public var url: String
        public var contentType: String?
        public var name: String?

        public init(url: String, contentType: String? = nil, name: String? = nil) {
            self.url = url
            self.contentType = contentType
            self.name = name
        }
    }

    public init(
        accountId: String, ticketId: Int64, messageId: Int64, createdAt: Date, fromAgent: Bool? = nil,
        channel: String? = nil, isPublic: Bool? = nil, via: String? = nil, senderId: Int64? = nil,
        bodyText: String? = nil, attachments: [Attachment]? = nil
    ) {
        self.accountId = accountId
        self.ticketId = ticketId
        self.messageId = messageId
        self.createdAt = createdAt
        self.fromAgent = fromAgent
        self.channel = channel
        self.isPublic = isPublic
        self.via = via
        self.senderId = senderId
        self.bodyText = bodyText
        self.attachments = attachments
    }

    public init(data: JSONValue) throws {
        let reader = DataReader(data: data)
        accountId = try reader.string("accountId")
        ticketId = try reader.int("ticketId")
        messageId = try reader.int("messageId")
        createdAt = try reader.date("createdAt")
        fromAgent = data["fromAgent"]?.boolValue
        channel = reader.optionalString("channel")
        isPublic = data["public"]?.boolValue
        via = reader.optionalString("via")
        senderId = data["senderId"]?.intValue
        bodyText = reader.optionalString("bodyText")
        attachments = data["attachments"]?.arrayValue?.compactMap { item in
            item["url"]?.stringValue.map {
                Attachment(url: $0, contentType: item["contentType"]?.stringValue, name: item["name"]?.stringValue)
            }
        }
    }

    public var data: JSONValue {
        var members: [String: JSONValue] = [
            "accountId": .string(accountId), "ticketId": .int(ticketId), "messageId": .int(messageId),
            "createdAt": .string(RFC3339.format(createdAt, fractional: true)),
        ]
        if let fromAgent { members["fromAgent"] = .bool(fromAgent) }
        if let channel { members["channel"] = .string(channel) }
        if let isPublic { members["public"] = .bool(isPublic) }
        if let via { members["via"] = .string(via) }
        if let senderId { members["senderId"] = .int(senderId) }
        if let bodyText { members["bodyText"] = .string(bodyText) }
        if let attachments {
            members["attachments"] = .array(
                attachments.map { attachment in
                    var file: [String: JSONValue] = ["url": .string(attachment.url)]
                    if let contentType = attachment.contentType { file["contentType"] = .string(contentType) }
                    if let name = attachment.name { file["name"] = .string(name) }
                    return .object(file)
                })
        }
        return .object(members)
    }

    public var partitionKey: String { "\(accountId):\(ticketId)" }
}
