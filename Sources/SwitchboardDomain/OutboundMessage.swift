import Foundation

/// The state of one agent reply's SMS. States only move forward (by ``rank``); terminal states share the top rank
/// so the first one recorded stands.
public enum OutboundState: String, Sendable, Codable, CaseIterable {
    /// Recorded before the provider call: a crash after this point is reconciled, never re-sent blindly.
    case sending
    case accepted
    case queued
    case sent
    case delivered
    /// Twilio's `partially_delivered` (contracts/twilio: a message status): some of it reached the handset.
    case partiallyDelivered = "partially_delivered"
    case undelivered
    case failed
    /// Not sent: consent, an unsupported attachment, a body over the limit… (an internal note explains it).
    case blocked
    case canceled

    public var rank: Int {
        switch self {
        case .sending: 0
        case .accepted, .queued: 1
        case .sent: 3
        case .delivered, .partiallyDelivered, .undelivered, .failed, .blocked, .canceled: 5
        }
    }

    public var isTerminal: Bool { rank == 5 }

    /// Maps a provider status (`queued`, `sending`, …) onto the outbound state, if it is one we track.
    public static func fromProvider(_ status: String) -> OutboundState? {
        switch status {
        case "accepted", "scheduled": .accepted
        case "queued": .queued
        case "sending": .queued  // still with the provider; ranks below `sent`
        case "sent": .sent
        case "delivered", "read": .delivered
        case "partially_delivered": .partiallyDelivered
        case "undelivered": .undelivered
        case "failed": .failed
        case "canceled": .canceled
        default: nil
        }
    }
}

public struct OutboundMessage: Sendable, Hashable {
    /// `<account>:<ticket id>:<message id>`: one SMS per agent reply.
    public var id: String
    public var accountId: String
    public var ticketId: Int64
    public var messageId: Int64
    public var toPhone: String
    /// SHA-256 of the exact body sent, to recognise our message in the provider's list after a crash.
    public var bodyDigest: String
    public var state: OutboundState
    public var providerSid: String?
    public var segments: Int?
    public var errorCode: Int?
    public var errorMessage: String?
    public var sendStartedAt: Date?
    public var stateAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, accountId: String, ticketId: Int64, messageId: Int64, toPhone: String, bodyDigest: String,
        state: OutboundState,
        providerSid: String? = nil, segments: Int? = nil, errorCode: Int? = nil, errorMessage: String? = nil,
        sendStartedAt: Date? = nil, stateAt: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.accountId = accountId
        self.ticketId = ticketId
        self.messageId = messageId
        self.toPhone = toPhone
        self.bodyDigest = bodyDigest
        self.state = state
        self.providerSid = providerSid
        self.segments = segments
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.sendStartedAt = sendStartedAt
        self.stateAt = stateAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public static func id(accountId: String, ticketId: Int64, messageId: Int64) -> String {
        "\(accountId):\(ticketId):\(messageId)"
    }
}

/// What consent says when a send starts (``Store/beginSend(id:accountId:phone:conversationalWindow:at:)``).
public enum SendClearance: Sendable, Hashable {
    /// The send may start; `conversational` when only the conversational window allowed it.
    case clear(conversational: Bool)
    /// Consent forbids it; `subscriber` is what stands (nil: nothing on record). The record is still `sending`.
    case blocked(Subscriber?)
}

/// What a delivery status did to its outbound message.
public enum DeliveryResult: Sendable, Hashable {
    case advanced(from: OutboundState, message: OutboundMessage)
    /// The message is already at or past this state (out-of-order or duplicate callback).
    case stale(message: OutboundMessage)
    /// No outbound message has this provider id.
    case unknownMessage
}

/// A side effect recorded before it is attempted (Gorgias import, internal note, ticket creation), so a crash
/// between the effect and its record is checked against the external system instead of repeated.
public struct EffectRecord: Sendable, Hashable {
    public enum State: String, Sendable {
        case started
        case done
    }

    public var accountId: String
    public var key: String
    public var state: State
    /// What the effect produced (a Gorgias message or ticket id), once done.
    public var reference: String?
    public var startedAt: Date

    public init(accountId: String, key: String, state: State, reference: String? = nil, startedAt: Date) {
        self.accountId = accountId
        self.key = key
        self.state = state
        self.reference = reference
        self.startedAt = startedAt
    }
}
