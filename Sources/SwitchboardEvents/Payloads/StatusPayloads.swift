import Foundation
import SwitchboardBase
import SwitchboardDomain
import SwitchboardJSON

/// `helpdesk.ticket.updated`: a ticket's status changed in Gorgias.
public struct TicketUpdate: EventPayload {
    public static let kind = EventKind.ticketStatus

    public var accountId: String
    public var ticketId: Int64
    public var status: TicketStatus
    public var updatedAt: Date
    public var snoozedUntil: Date?

    public init(accountId: String, ticketId: Int64, status: TicketStatus, updatedAt: Date, snoozedUntil: Date? = nil) {
        self.accountId = accountId
        self.ticketId = ticketId
        self.status = status
        self.updatedAt = updatedAt
        self.snoozedUntil = snoozedUntil
    }

    public init(data: JSONValue) throws {
        let reader = DataReader(data: data)
        accountId = try reader.string("accountId")
        ticketId = try reader.int("ticketId")
        guard let status = TicketStatus(rawValue: try reader.string("status")) else {
            throw ProcessingFailure.permanent("event.schema_invalid", "data.status is not open or closed")
        }
        self.status = status
        updatedAt = try reader.date("updatedAt")
        snoozedUntil = reader.optionalDate("snoozedUntil")
    }

    public var data: JSONValue {
        [
            "accountId": .string(accountId), "ticketId": .int(ticketId), "status": .string(status.rawValue),
            "updatedAt": .string(RFC3339.format(updatedAt, fractional: true)),
            "snoozedUntil": snoozedUntil.map { .string(RFC3339.format($0, fractional: true)) } ?? .null,
        ]
    }

    public var partitionKey: String { "\(accountId):\(ticketId)" }
}

/// `sms.message.status`: the SMS provider reported a delivery status.
public struct DeliveryUpdate: EventPayload {
    public static let kind = EventKind.deliveryStatus

    public var accountId: String
    public var messageSid: String
    public var status: String
    public var at: Date
    public var errorCode: Int?
    public var to: String?
    public var from: String?

    public init(
        accountId: String, messageSid: String, status: String, at: Date, errorCode: Int? = nil, to: String? = nil,
        from: String? = nil
    ) {
        self.accountId = accountId
        self.messageSid = messageSid
        self.status = status
        self.at = at
        self.errorCode = errorCode
        self.to = to
        self.from = from
    }

    public init(data: JSONValue) throws {
        let reader = DataReader(data: data)
        accountId = try reader.string("accountId")
        messageSid = try reader.string("messageSid")
        status = try reader.string("status")
        at = try reader.date("at")
        errorCode = data["errorCode"]?.intValue.map(Int.init)
        to = reader.optionalString("to")
        from = reader.optionalString("from")
    }

    public var data: JSONValue {
        var members: [String: JSONValue] = [
            "accountId": .string(accountId), "messageSid": .string(messageSid), "status": .string(status),
            "at": .string(RFC3339.format(at, fractional: true)),
            "errorCode": errorCode.map { .int(Int64($0)) } ?? .null,
        ]
        if let to { members["to"] = .string(to) }
        if let from { members["from"] = .string(from) }
        return .object(members)
    }

    public var partitionKey: String { "\(accountId):\(messageSid)" }
}

/// `sms.subscription.changed`: a consent source changed a phone's SMS consent.
public struct SubscriptionUpdate: EventPayload {
    public static let kind = EventKind.subscription

    public var accountId: String
    public var phone: String
    public var state: ConsentState
    public var at: Date
    public var source: String
    public var customer: CustomerHint

    public init(
        accountId: String, phone: String, state: ConsentState, at: Date, source: String,
        customer: CustomerHint = CustomerHint()
    ) {
        self.accountId = accountId
        self.phone = phone
        self.state = state
        self.at = at
        self.source = source
        self.customer = customer
    }

    public init(data: JSONValue) throws {
        let reader = DataReader(data: data)
        accountId = try reader.string("accountId")
        phone = try reader.string("phone")
        guard let state = ConsentState(rawValue: try reader.string("state")) else {
            throw ProcessingFailure.permanent("event.schema_invalid", "data.state is not a consent state")
        }
        self.state = state
        at = try reader.date("at")
        source = try reader.string("source")
        customer = CustomerHint(data["customer"])
    }

    public var data: JSONValue {
        var members: [String: JSONValue] = [
            "accountId": .string(accountId), "phone": .string(phone), "state": .string(state.rawValue),
            "at": .string(RFC3339.format(at, fractional: true)), "source": .string(source),
        ]
        if customer.name != nil || customer.email != nil { members["customer"] = customer.data }
        return .object(members)
    }

    public var partitionKey: String { "\(accountId):\(phone)" }
}
