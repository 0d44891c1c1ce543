import Foundation
import SwitchboardDomain
import SwitchboardJSON

/// `sms.message.received`: a customer's text reached the business number.
public struct InboundText: EventPayload {
    public static let kind = EventKind.inboundText

    public struct Media: Sendable, Hashable {
        public var url: String
        public var contentType: String

        public init(url: String, contentType: String) {
            self.url = url
            self.contentType = contentType
        }
    }

    public var accountId: String
    public var messageSid: String
    public var from: String
    public var to: String
    public var body: String
    public var receivedAt: Date
    public var media: [Media]
    public var customer: CustomerHint
    /// The provider's own keyword class when its opt-out handling recognised the text (Twilio's `OptOutType`:
    /// `STOP`, `START` or `HELP`); it decides over Switchboard's keyword matching.
    public var optOutType: String?

    public init(
        accountId: String, messageSid: String, from: String, to: String, body: String, receivedAt: Date,
        media: [Media] = [],
        customer: CustomerHint = CustomerHint(), optOutType: String? = nil
    ) {
        self.accountId = accountId
        self.messageSid = messageSid
        self.from = from
        self.to = to
        self.body = body
        self.receivedAt = receivedAt
        self.media = media
        self.customer = customer
        self.optOutType = optOutType
    }

    public init(data: JSONValue) throws {
        let reader = DataReader(data: data)
        accountId = try reader.string("accountId")
        messageSid = try reader.string("messageSid")
        from = try reader.string("from")
        to = try reader.string("to")
        body = try reader.string("body")
        receivedAt = try reader.date("receivedAt")
        media = (data["media"]?.arrayValue ?? []).compactMap { item in
            guard let url = item["url"]?.stringValue, let type = item["contentType"]?.stringValue else { return nil }
            return Media(url: url, contentType: type)
        }
        customer = CustomerHint(data["customer"])
        optOutType = reader.optionalString("optOutType")
    }

    public var data: JSONValue {
        var members: [String: JSONValue] = [
            "accountId": .string(accountId), "messageSid": .string(messageSid), "from": .string(from),
            "to": .string(to),
            "body": .string(body), "receivedAt": .string(RFC3339.format(receivedAt, fractional: true)),
        ]
        if !media.isEmpty {
            members["media"] = .array(media.map { ["url": .string($0.url), "contentType": .string($0.contentType)] })
        }
        if customer.name != nil || customer.email != nil { members["customer"] = customer.data }
        if let optOutType { members["optOutType"] = .string(optOutType) }
        return .object(members)
    }

    public var partitionKey: String { "\(accountId):\(from)" }

    /// The consent keyword this text is, by the provider's word or the account's vocabulary.
    public func consentKeyword(extra: ConsentKeyword.Vocabulary = .none) -> ConsentKeyword? {
        ConsentKeyword.classify(body, optOutType: optOutType, extra: extra)
    }

    /// `sms.consent` for a consent keyword (by the default vocabulary), `sms.inbound` for everything else.
    public var topic: String { topic(extra: .none) }

    /// The topic with an account's extra keywords taken into account (the ingress knows the account).
    public func topic(extra: ConsentKeyword.Vocabulary) -> String {
        consentKeyword(extra: extra) == nil ? Self.kind.topic : EventKind.consentTopic
    }
}
