/// The five Switchboard event types and the source topic each travels on (architecture §2).
public enum EventKind: String, CaseIterable, Sendable {
    case inboundText = "sms.message.received"
    case helpdeskMessage = "helpdesk.message.created"
    case ticketStatus = "helpdesk.ticket.updated"
    case deliveryStatus = "sms.message.status"
    case subscription = "sms.subscription.changed"

    /// The CloudEvents `type`.
    public var type: String { rawValue }

    /// The source topic carrying this event type.
    public var topic: String {
        switch self {
        case .inboundText: "sms.inbound"
        case .helpdeskMessage: "helpdesk.replies"
        case .ticketStatus: "helpdesk.ticket-status"
        case .deliveryStatus: "sms.delivery-status"
        case .subscription: "sms.subscriptions"
        }
    }

    /// The event kind carried by a source topic.
    public static func forTopic(_ topic: String) -> EventKind? {
        allCases.first { $0.topic == topic }
    }

    /// Every source topic, in a stable order.
    public static var sourceTopics: [String] { allCases.map(\.topic) }
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
}
