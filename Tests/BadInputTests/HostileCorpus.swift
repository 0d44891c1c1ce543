import Foundation
import SwitchboardEvents
import SwitchboardJSON

/// The bad-input corpus (issue 9): for each of the five source topics, broken bytes, broken envelopes and schema
/// violations (each dead-lettered with its error class) and hostile but valid records (handled, never dead-lettered).
/// Built from the shipped samples in `schemas/samples`, so a schema change shows up here.
enum HostileCorpus {
    static let account = "acme"

    static func cases() -> [HostileCase] {
        EventKind.allCases.flatMap { kind in
            var builder = CorpusBuilder(kind: kind)
            builder.addSyntaxCases()
            builder.addEnvelopeCases()
            builder.addSchemaCases()
            builder.addKeyCases()
            builder.addCases(for: kind)
            return builder.cases
        }
    }
}

/// Builds one topic's hostile cases from its sample, giving every record a fresh event id.
struct CorpusBuilder {
    typealias Change = (inout [String: JSONValue], inout [String: JSONValue]) -> Void
    static let invalidJSON = HostileCase.Outcome.deadLettered("record.invalid_json")
    static let invalidEnvelope = HostileCase.Outcome.deadLettered("event.invalid_envelope")
    static let schemaInvalid = HostileCase.Outcome.deadLettered("event.schema_invalid")

    let kind: EventKind
    private(set) var cases: [HostileCase] = []
    private var serial = 0

    init(kind: EventKind) {
        self.kind = kind
    }

    /// The sample with a fresh event id (and provider id, which Gorgias deduplicates on), then `change` applied.
    mutating func document(of sampleKind: EventKind? = nil, _ change: Change = { _, _ in }) -> JSONValue {
        serial += 1
        let sample = try! JSONParser.parse(SchemaRegistry.sample(sampleKind ?? kind)!)
        var envelope = sample.objectValue!
        var data = envelope["data"]!.objectValue!
        envelope["id"] = .string("corpus:\(kind.rawValue):\(serial)")
        if data["messageSid"] != nil { data["messageSid"] = .string("SMcorpus\(kind.topic.count)x\(serial)") }
        change(&envelope, &data)
        if envelope["data"]?.objectValue != nil { envelope["data"] = .object(data) }
        return .object(envelope)
    }

    mutating func add(_ name: String, _ outcome: HostileCase.Outcome, key: String? = "acme:corpus", bytes: [UInt8]) {
        cases.append(HostileCase(name: name, kind: kind, key: key, value: bytes, outcome: outcome))
    }

    mutating func add(_ name: String, _ outcome: HostileCase.Outcome, key: String? = "acme:corpus", _ change: Change) {
        add(name, outcome, key: key, bytes: Array(document(change).serialized().utf8))
    }

    /// Bytes that are not one JSON value.
    mutating func addSyntaxCases() {
        let valid = Array(document().serialized().utf8)
        let head = Array(#"{"specversion":"1.0","source":""#.utf8)
        let tail = Array(#""}"#.utf8)
        add("truncated JSON", Self.invalidJSON, bytes: Array(valid.prefix(valid.count / 2)))
        add("an empty record", Self.invalidJSON, bytes: [])
        add("an empty record without a key", Self.invalidJSON, key: nil, bytes: [])
        add("trailing garbage after the object", Self.invalidJSON, bytes: valid + Array("}".utf8))
        add("invalid UTF-8 in a string", Self.invalidJSON, bytes: head + [0xC3, 0x28] + tail)
        add("overlong UTF-8 encoding", Self.invalidJSON, bytes: head + [0xC0, 0xAF] + tail)
        add("a raw control character in a string", Self.invalidJSON, bytes: head + [0x61, 0x01, 0x62] + tail)
        add("an unpaired surrogate escape", Self.invalidJSON, bytes: head + Array(#"\ud800"#.utf8) + tail)
        add("NaN as a number", Self.invalidJSON, bytes: Array(#"{"specversion":"1.0","data":{"ticketId":NaN}}"#.utf8))
        add("single-quoted strings", Self.invalidJSON, bytes: Array("{'specversion':'1.0'}".utf8))
        add("binary garbage", Self.invalidJSON, bytes: [0x00, 0xFF, 0x10, 0x80, 0x7B, 0x22, 0xFE])
        add(
            "10,000 levels of nesting", Self.invalidJSON,
            bytes: Array(String(repeating: "[", count: 10_000).utf8) + Array(String(repeating: "]", count: 10_000).utf8)
        )
        add("a 300 KB record", .deadLettered("record.too_large")) { _, data in
            data["padding"] = .string(String(repeating: "x", count: 300_000))
        }
    }

    /// JSON, but not a CloudEvent Switchboard reads from this topic.
    mutating func addEnvelopeCases() {
        add("a JSON array", Self.invalidEnvelope, bytes: Array("[1,2,3]".utf8))
        add("JSON null", Self.invalidEnvelope, bytes: Array("null".utf8))
        add("a JSON string", Self.invalidEnvelope, bytes: Array(#""sms.message.received""#.utf8))
        add("no specversion", Self.invalidEnvelope) { envelope, _ in envelope["specversion"] = nil }
        add("specversion as a number", Self.invalidEnvelope) { envelope, _ in envelope["specversion"] = 1.0 }
        add("a future specversion", .deadLettered("event.unsupported_specversion")) { envelope, _ in
            envelope["specversion"] = "2.0"
        }
        add("an old specversion", .deadLettered("event.unsupported_specversion")) { envelope, _ in
            envelope["specversion"] = "0.3"
        }
        add("no type", Self.invalidEnvelope) { envelope, _ in envelope["type"] = nil }
        add("an unknown type", .deadLettered("event.unknown_type")) { envelope, _ in
            envelope["type"] = "sms.message.exploded"
        }
        add("SQL in the type", .deadLettered("event.unknown_type")) { envelope, _ in
            envelope["type"] = "x'; DROP TABLE processed_events;--"
        }
        let other = EventKind.allCases[(EventKind.allCases.firstIndex(of: kind)! + 1) % EventKind.allCases.count]
        add(
            "another topic's event", .deadLettered("event.wrong_topic"),
            bytes: Array(document(of: other).serialized().utf8))
    }

    /// Valid events with keys the runtime must refuse: ones the store cannot hold, and ones for another account.
    mutating func addKeyCases() {
        let invalidKey = HostileCase.Outcome.deadLettered("record.invalid_key")
        add("a NUL byte in the key", invalidKey, key: "acme:\u{0}corpus") { _, _ in }
        add("a key of 2,000 bytes", invalidKey, key: "acme:" + String(repeating: "k", count: 1995)) { _, _ in }
        add("a key for another account than the event's", .deadLettered("event.key_mismatch"), key: "globex:corpus") {
            _, _ in
        }
        add("a key that only starts like the account id", .deadLettered("event.key_mismatch"), key: "acmecorp:corpus") {
            _, _ in
        }
    }

    /// Valid envelopes whose content breaks the schema every event type shares.
    mutating func addSchemaCases() {
        add("data is null", Self.schemaInvalid) { envelope, _ in envelope["data"] = .null }
        add("data is an empty object", Self.schemaInvalid) { _, data in data = [:] }
        add("data is missing", Self.schemaInvalid) { envelope, _ in envelope["data"] = nil }
        add("data is an array", Self.schemaInvalid) { envelope, _ in envelope["data"] = [1, 2] }
        add("data is a string", Self.schemaInvalid) { envelope, _ in envelope["data"] = "{}" }
        add("control characters in the account id", Self.schemaInvalid) { _, data in
            data["accountId"] = "ac\u{0}me\u{7}"
        }
        add("SQL in the account id", Self.schemaInvalid) { _, data in
            data["accountId"] = "acme'; DROP TABLE accounts;--"
        }
        add("a script tag as the account id", Self.schemaInvalid) { _, data in
            data["accountId"] = "<script>alert(1)</script>"
        }
        add("an account id of 65 characters", Self.schemaInvalid) { _, data in
            data["accountId"] = .string(String(repeating: "a", count: 65))
        }
        add("an empty account id", Self.schemaInvalid) { _, data in data["accountId"] = "" }
        add("the account id as a number", Self.schemaInvalid) { _, data in data["accountId"] = 42 }
        add("an empty event id", Self.schemaInvalid) { envelope, _ in envelope["id"] = "" }
        add("whitespace in the event id", Self.schemaInvalid) { envelope, _ in
            envelope["id"] = "corpus id\nwith newline"
        }
        add("an event id of 256 characters", Self.schemaInvalid) { envelope, _ in
            envelope["id"] = .string(String(repeating: "i", count: 256))
        }
        add("the event id as a number", Self.schemaInvalid) { envelope, _ in envelope["id"] = 7 }
        add("an empty source", Self.schemaInvalid) { envelope, _ in envelope["source"] = "" }
        add("time is not a date", Self.schemaInvalid) { envelope, _ in envelope["time"] = "yesterday" }
        add("time on February 30", Self.schemaInvalid) { envelope, _ in envelope["time"] = "2026-02-30T00:00:00Z" }
        add("an XML content type", Self.schemaInvalid) { envelope, _ in envelope["datacontenttype"] = "text/xml" }
    }
}
