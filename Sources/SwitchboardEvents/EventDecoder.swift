import SwitchboardJSON
import SwitchboardKafka

/// Turns a raw record into a validated ``CloudEvent``, or says exactly why it cannot be one.
///
/// Checks, in order: size, UTF-8 and JSON syntax, the CloudEvents envelope (`specversion` 1.0, a known `type`
/// carried on its own topic), then the type's JSON Schema from `schemas/`.
public struct EventDecoder: Sendable {
    /// Why a record was rejected; `errorClass` is stable for filtering in the DLQ.
    public struct Rejection: Error, Sendable, CustomStringConvertible {
        public var errorClass: String
        public var reason: String
        public var description: String { "\(errorClass): \(reason)" }
    }

    public let registry: SchemaRegistry
    public let maximumRecordBytes: Int

    public init(registry: SchemaRegistry = .shared, maximumRecordBytes: Int = 256 * 1024) {
        self.registry = registry
        self.maximumRecordBytes = maximumRecordBytes
    }

    /// The longest record key accepted; keys are stored (parking) and must stay indexable.
    public static let maximumKeyBytes = 1024

    /// Decodes a consumed record: its key first (it must be one the store can hold, and it must name the event's
    /// account: `accountId:…`, so a record keyed for one merchant never acts for another), then its value.
    public func decode(_ record: KafkaRecord, sourceTopic: String) -> Result<CloudEvent, Rejection> {
        var key: String?
        if let bytes = record.key {
            guard bytes.count <= Self.maximumKeyBytes else {
                return .failure(
                    Rejection(
                        errorClass: "record.invalid_key",
                        reason: "the key is \(bytes.count) bytes; the limit is \(Self.maximumKeyBytes)"))
            }
            guard !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else {
                return .failure(
                    Rejection(errorClass: "record.invalid_key", reason: "the key is not UTF-8 text without NUL bytes"))
            }
            key = text
        }
        let decoded = decode(record.value, sourceTopic: sourceTopic)
        if case .success(let event) = decoded, let key, let account = event.accountId, !key.hasPrefix(account + ":") {
            return .failure(
                Rejection(
                    errorClass: "event.key_mismatch",
                    reason: "the record key does not start with the event's account id and a colon"))
        }
        return decoded
    }

    /// Decodes `value` read from `sourceTopic` (the original topic, also for retry-tier records).
    public func decode(_ value: [UInt8], sourceTopic: String) -> Result<CloudEvent, Rejection> {
        guard value.count <= maximumRecordBytes else {
            return .failure(
                Rejection(
                    errorClass: "record.too_large",
                    reason: "record is \(value.count) bytes; the limit is \(maximumRecordBytes)"))
        }
        let document: JSONValue
        let canonicalData: ArraySlice<UInt8>?
        do {
            (document, canonicalData) = try JSONParser.parse(value, canonicalMember: "data")
        } catch {
            return .failure(Rejection(errorClass: "record.invalid_json", reason: error.description))
        }
        guard document.objectValue != nil else {
            return .failure(
                Rejection(errorClass: "event.invalid_envelope", reason: "the record is JSON but not an object"))
        }
        guard let specversion = document["specversion"]?.stringValue else {
            return .failure(Rejection(errorClass: "event.invalid_envelope", reason: "missing CloudEvents specversion"))
        }
        guard specversion == "1.0" else {
            return .failure(
                Rejection(
                    errorClass: "event.unsupported_specversion",
                    reason: "specversion \(specversion.prefix(16)) is not supported (expected 1.0)"
                ))
        }
        guard let type = document["type"]?.stringValue else {
            return .failure(Rejection(errorClass: "event.invalid_envelope", reason: "missing CloudEvents type"))
        }
        guard let kind = EventKind(rawValue: type) else {
            return .failure(
                Rejection(errorClass: "event.unknown_type", reason: "unknown event type \"\(type.prefix(64))\""))
        }
        guard kind.topics.contains(sourceTopic) else {
            return .failure(
                Rejection(
                    errorClass: "event.wrong_topic",
                    reason: "\(kind.type) belongs on \(kind.topics.joined(separator: " or ")), not \(sourceTopic)"
                ))
        }
        let issues = registry.schemas[kind]!.validate(document)
        guard issues.isEmpty else {
            return .failure(
                Rejection(
                    errorClass: "event.schema_invalid",
                    reason: "\(kind.type) violates its schema: " + issues.map(\.description).joined(separator: "; ")
                ))
        }
        return .success(
            CloudEvent(
                id: document["id"]!.stringValue!,
                source: document["source"]!.stringValue!,
                kind: kind,
                time: document["time"]?.stringValue.flatMap(RFC3339.parse),
                data: document["data"]!,
                canonicalData: canonicalData
            ))
    }
}
