/// The five Switchboard event types and the source topics they travel on (architecture §2).
public enum EventKind: String, CaseIterable, Sendable {
    case inboundText = "sms.message.received"
    case helpdeskMessage = "helpdesk.message.created"
    case ticketStatus = "helpdesk.ticket.updated"
    case deliveryStatus = "sms.message.status"
    case subscription = "sms.subscription.changed"

    /// The CloudEvents `type`.
    public var type: String { rawValue }

    /// The topic a customer's STOP, START or HELP travels on: `sms.message.received` events that are consent
    /// keywords, kept apart from ordinary texts so an opt-out never queues behind a merchant's Gorgias backlog, a
    /// parked text of the same customer or a Gorgias outage (the InboundWorker consumes both topics).
    public static let consentTopic = "sms.consent"

    /// The main source topic carrying this event type.
    public var topic: String {
        switch self {
        case .inboundText: "sms.inbound"
        case .helpdeskMessage: "helpdesk.replies"
        case .ticketStatus: "helpdesk.ticket-status"
        case .deliveryStatus: "sms.delivery-status"
        case .subscription: "sms.subscriptions"
        }
    }

    /// Every source topic that may carry this event type.
    public var topics: [String] {
        self == .inboundText ? [topic, Self.consentTopic] : [topic]
    }

    /// The event kind carried by a source topic.
    public static func forTopic(_ topic: String) -> EventKind? {
        allCases.first { $0.topics.contains(topic) }
    }

    /// Every source topic, in a stable order.
    public static var sourceTopics: [String] { allCases.flatMap(\.topics) }
}

extension EventKind {
    /// The typed payload of this event type.
    public var payloadType: any EventPayload.Type {
        switch self {
        case .inboundText: InboundText.self
        case .helpdeskMessage: HelpdeskMessage.self
        case .ticketStatus: TicketUpdate.self
        case .deliveryStatus: DeliveryUpdate.self
        case .subscription: SubscriptionUpdate.self
        }
    }

    /// The record key of a validated event (architecture §2: what orders it).
    public static func partitionKey(of event: CloudEvent) throws -> String {
        try event.kind.payloadType.init(data: event.data).partitionKey
    }

    /// The source topic a validated event belongs on (a consent keyword goes to ``consentTopic``).
    public static func topic(of event: CloudEvent) throws -> String {
        try event.kind.payloadType.init(data: event.data).topic
    }
}
