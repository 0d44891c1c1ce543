import Foundation
import Testing
import TestSupport
@testable import SwitchboardEvents
import SwitchboardJSON

/// Seeded fuzzing of event decoding (issue 9): whatever the bytes, the decoder answers with an event or one of its
/// error classes, never crashes, never echoes a rejected value, and what it accepts it accepts again.
@Suite("Event decoding properties")
struct DecoderPropertyTests {
    static let errorClasses: Set<String> = [
        "record.too_large", "record.invalid_json", "event.invalid_envelope", "event.unsupported_specversion",
        "event.unknown_type",
        "event.wrong_topic", "event.schema_invalid",
    ]
    let decoder = EventDecoder()
    let seed = FuzzGenerator.seed

    @Test("random bytes are rejected with a known error class")
    func randomBytes() {
        var random = FuzzGenerator(seed: seed)
        for _ in 0..<FuzzGenerator.iterations {
            let bytes = random.bytes(maximumCount: 600)
            let topic = EventKind.sourceTopics.randomElement(using: &random)!
            switch decoder.decode(bytes, sourceTopic: topic) {
            case .success: Issue.record("random bytes decoded as an event (seed \(seed))")
            case .failure(let rejection):
                #expect(Self.errorClasses.contains(rejection.errorClass), "seed \(seed): \(rejection)")
            }
        }
    }

    @Test("every proper prefix of every sample is invalid JSON")
    func truncations() throws {
        for kind in EventKind.allCases {
            let text = try #require(SchemaRegistry.sample(kind))
            let sample = Array(text.utf8)
            for length in 0..<sample.count {
                let result = decoder.decode(Array(sample.prefix(length)), sourceTopic: kind.topic)
                guard case .failure(let rejection) = result, rejection.errorClass == "record.invalid_json" else {
                    Issue.record("\(kind) prefix of \(length) bytes: \(result)")
                    return
                }
            }
        }
    }

    @Test(
        "mutated samples: a known verdict, accepted events decode again to the same fingerprint, rejected values are not echoed"
    )
    func mutatedSamples() throws {
        var random = FuzzGenerator(seed: seed)
        for _ in 0..<FuzzGenerator.iterations {
            let kind = EventKind.allCases.randomElement(using: &random)!
            let sample = try #require(SchemaRegistry.sample(kind))
            var envelope = try #require(try JSONParser.parse(sample).objectValue)
            var data = try #require(envelope["data"]?.objectValue)
            let marker = "MARKER\(UInt32.random(in: 0...UInt32.max, using: &random))"
            let field = data.keys.sorted().randomElement(using: &random)!
            switch Int.random(in: 0...3, using: &random) {
            case 0: data[field] = nil
            case 1: data[field] = random.json()
            case 2: data[field] = .string(marker + random.string())
            default:
                envelope[
                    ["id", "source", "time", "specversion", "type", "datacontenttype"].randomElement(using: &random)!] =
                    random.json(depth: 1)
            }
            envelope["data"] = .object(data)
            let value = Array(JSONValue.object(envelope).serialized().utf8)
            switch decoder.decode(value, sourceTopic: kind.topic) {
            case .success(let event):
                let again = decoder.decode(Array(event.document.serialized().utf8), sourceTopic: kind.topic)
                #expect(
                    (try? again.get())?.fingerprint == event.fingerprint,
                    "seed \(seed): an accepted event did not decode again")
            case .failure(let rejection):
                #expect(Self.errorClasses.contains(rejection.errorClass), "seed \(seed): \(rejection)")
                #expect(
                    !rejection.reason.contains(marker),
                    "seed \(seed): the reason echoes the rejected value: \(rejection.reason)")
            }
        }
    }

    @Test("canonical JSON is a fixed point: parse(serialize(v)) serializes to the same bytes")
    func canonicalRoundTrip() throws {
        var random = FuzzGenerator(seed: seed)
        for _ in 0..<FuzzGenerator.iterations {
            let value = random.json()
            let bytes = value.canonicalBytes()
            let parsed = try JSONParser.parse(bytes)
            #expect(parsed.canonicalBytes() == bytes, "seed \(seed): \(value.serialized())")
        }
    }

    @Test("the fingerprint taken from a record's own bytes equals the fingerprint of its re-serialized data")
    func fingerprintShortcut() throws {
        var random = FuzzGenerator(seed: seed)
        var shortcuts = 0
        for iteration in 0..<FuzzGenerator.iterations {
            let data = iteration.isMultiple(of: 2) ? random.json() : random.plainJSON()
            let texts = [
                JSONValue.object(["data": data, "id": "e"]).serialized(),
                Self.loosely(.object(["id": "e", "data": data]), space: ""),
                Self.loosely(.object(["id": "e", "data": data]), space: " "),
            ]
            for text in texts {
                let (document, canonicalData) = try JSONParser.parse(Array(text.utf8), canonicalMember: "data")
                let parsedData = try #require(document["data"])
                if canonicalData != nil { shortcuts += 1 }
                let event = CloudEvent(
                    id: "e", source: "s", kind: .subscription, time: nil, data: parsedData, canonicalData: canonicalData
                )
                #expect(event.fingerprint == CloudEvent.fingerprint(of: data), "seed \(seed): \(text)")
            }
        }
        #expect(shortcuts > FuzzGenerator.iterations / 10, "the shortcut was hardly ever taken (\(shortcuts))")
    }

    /// JSON that is valid but not canonical: keys in reverse order, `space` after every separator.
    static func loosely(_ value: JSONValue, space: String) -> String {
        switch value {
        case .array(let values):
            "[" + space + values.map { loosely($0, space: space) }.joined(separator: "," + space) + "]"
        case .object(let members):
            "{" + space
                + members.keys.sorted(by: >).map {
                    JSONValue.string($0).serialized() + ":" + space + loosely(members[$0]!, space: space)
                }.joined(separator: "," + space) + "}"
        default: value.serialized()
        }
    }
}
