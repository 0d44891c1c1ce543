import Foundation
import SwitchboardBase
import SwitchboardJSON
import SwitchboardKafka

/// The typed `data` of one event type: read from a validated ``CloudEvent`` and rendered back for producing.
public protocol EventPayload: Sendable {
    static var kind: EventKind { get }
    /// Reads validated `data` (the schema already guarantees required fields and types).
    init(data: JSONValue) throws
    var data: JSONValue { get }
    /// The record key that orders this event (`accountId:…`).
    var partitionKey: String { get }
    /// The source topic this event is produced to (the event kind's topic unless the payload says otherwise).
    var topic: String { get }
}

extension EventPayload {
    public var topic: String { Self.kind.topic }

    /// This payload as a CloudEvent record, ready to produce. `time` is the CloudEvents `time`; nil leaves it out
    /// (webhooks carry only what the provider sent, so a retried delivery is the same event byte for byte).
    public func record(id: String, source: String, time: Date? = Date(), topic: String? = nil) -> OutgoingRecord {
        let event = CloudEvent(id: id, source: source, kind: Self.kind, time: time, data: data)
        return OutgoingRecord(topic: topic ?? self.topic, key: partitionKey, value: event.document.serialized())
    }

    public init(_ event: CloudEvent) throws {
        guard event.kind == Self.kind else {
            throw ProcessingFailure.permanent("event.wrong_type", "expected \(Self.kind.type), got \(event.type)")
        }
        try self.init(data: event.data)
    }
}

/// Reads fields from validated event data.
struct DataReader {
    let data: JSONValue

    func string(_ key: String) throws -> String {
        guard let value = data[key]?.stringValue else {
            throw ProcessingFailure.permanent("event.schema_invalid", "data.\(key) is missing")
        }
        return value
    }

    func optionalString(_ key: String) -> String? { data[key]?.stringValue }

    func int(_ key: String) throws -> Int64 {
        guard let value = data[key]?.intValue else {
            throw ProcessingFailure.permanent("event.schema_invalid", "data.\(key) is missing")
        }
        return value
    }

    func date(_ key: String) throws -> Date {
        guard let value = data[key]?.stringValue.flatMap(RFC3339.parse) else {
            throw ProcessingFailure.permanent("event.schema_invalid", "data.\(key) is not a date-time")
        }
        return value
    }

    func optionalDate(_ key: String) -> Date? { data[key]?.stringValue.flatMap(RFC3339.parse) }
}

/// A customer's name and email as upstream systems know them.
public struct CustomerHint: Sendable, Hashable {
    public var name: String?
    public var email: String?

    public init(name: String? = nil, email: String? = nil) {
        self.name = name
        self.email = email
    }

    init(_ value: JSONValue?) {
        name = value?["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        email = value?["email"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
    }

    var data: JSONValue {
        var members: [String: JSONValue] = [:]
        if let name { members["name"] = .string(name) }
        if let email { members["email"] = .string(email) }
        return .object(members)
    }
}
