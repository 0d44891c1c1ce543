import Foundation

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

    public init(
        accountId: String, ticketId: Int64, messageId: Int64, createdAt: Date, fromAgent: Bool? = nil,
        channel: String? = nil, isPublic: Bool? = nil, via: String? = nil, senderId: Int64? = nil,
        bodyText: String? = nil
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
        return .object(members)
    }

    public var partitionKey: String { "\(accountId):\(ticketId)" }
}
