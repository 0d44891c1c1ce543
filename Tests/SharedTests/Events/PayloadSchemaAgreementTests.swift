import Foundation
import Testing
import SwitchboardEvents
import SwitchboardJSON

/// The typed payloads are written by hand (their encoding is what event fingerprints are taken over, so it must stay
/// byte for byte what earlier releases wrote); this keeps them and `schemas/` from drifting apart. A field added to a
/// schema and not to its payload, or the other way round, fails here.
@Suite("Payloads agree with their schemas")
struct PayloadSchemaAgreementTests {
    /// A value for a schema property the sample leaves out, from the property's own schema.
    static func example(_ property: JSONValue) -> JSONValue {
        if let first = property["enum"]?.arrayValue?.first { return first }
        if property["format"]?.stringValue == "date-time" { return "2026-06-01T12:00:00Z" }
        switch property["type"]?.stringValue {
        case "integer"?: return 7
        case "boolean"?: return true
        case "array"?: return []
        default: return "x"
        }
    }

    /// Two `data` values mean the same: equal, or the same instant written two ways.
    static func same(_ left: JSONValue, _ right: JSONValue) -> Bool {
        if left == right { return true }
        guard let l = left.stringValue.flatMap(RFC3339.parse), let r = right.stringValue.flatMap(RFC3339.parse) else {
            return false
        }
        return l == r
    }

    @Test(
        "every property a schema names is read and written by its payload, and no other", arguments: EventKind.allCases)
    func payloadCarriesEverySchemaProperty(kind: EventKind) throws {
        let schema = try JSONParser.parse(try #require(SchemaRegistry.schemaText(kind)))
        let properties = try #require(schema["properties"]?["data"]?["properties"]?.objectValue)
        let sample = try JSONParser.parse(try #require(SchemaRegistry.sample(kind)))
        var data = try #require(sample["data"]?.objectValue)
        for (name, property) in properties where data[name] == nil {
            data[name] = Self.example(property)
        }

        let written = try #require(try kind.payloadType.init(data: .object(data)).data.objectValue)

        #expect(Set(written.keys) == Set(properties.keys), "\(kind.type): payload writes \(written.keys.sorted())")
        for (name, value) in data {
            #expect(
                Self.same(written[name] ?? .null, value),
                "\(kind.type): \(name) read as \(value), written back differently")
        }
    }
}
