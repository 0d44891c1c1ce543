/// A Twilio Message resource (`Messages.json`), as the API returns it: numbers as strings, RFC 2822 dates.
public struct SMSMessage: Codable, Sendable, Hashable {
    public var sid: String
    public var accountSid: String?
    public var messagingServiceSid: String?
    public var from: String?
    public var to: String
    public var body: String?
    public var status: String
    public var direction: String?
    public var numSegments: String?
    public var numMedia: String?
    public var errorCode: Int?
    public var errorMessage: String?
    public var dateCreated: String?
    public var dateSent: String?
    public var dateUpdated: String?

    enum CodingKeys: String, CodingKey {
        case sid, from, to, body, status, direction
        case accountSid = "account_sid"
        case messagingServiceSid = "messaging_service_sid"
        case numSegments = "num_segments"
        case numMedia = "num_media"
        case errorCode = "error_code"
        case errorMessage = "error_message"
        case dateCreated = "date_created"
        case dateSent = "date_sent"
        case dateUpdated = "date_updated"
    }

    public init(
        sid: String, accountSid: String?, messagingServiceSid: String?, from: String?, to: String, body: String?,
        status: String, direction: String?, numSegments: String?, numMedia: String?, errorCode: Int?,
        errorMessage: String?, dateCreated: String?, dateSent: String?, dateUpdated: String?
    ) {
        self.sid = sid
        self.accountSid = accountSid
        self.messagingServiceSid = messagingServiceSid
        self.from = from
        self.to = to
        self.body = body
        self.status = status
        self.direction = direction
        self.numSegments = numSegments
        self.numMedia = numMedia
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.dateCreated = dateCreated
        self.dateSent = dateSent
        self.dateUpdated = dateUpdated
    }

    public var segments: Int? { numSegments.flatMap(Int.init) }
}

/// A page of `GET Messages.json`.
public struct SMSMessagePage: Codable, Sendable {
    public var messages: [SMSMessage]
    public var nextPageURI: String?

    enum CodingKeys: String, CodingKey {
        case messages
        case nextPageURI = "next_page_uri"
    }
}
