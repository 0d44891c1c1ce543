import Foundation
import Testing
import SwitchboardEvents
import SwitchboardJSON

@Suite("Event schemas")
struct SchemaValidationTests {
    let decoder = EventDecoder()

    @Test("every shipped sample is valid against its schema", arguments: EventKind.allCases)
    func samplesAreValid(kind: EventKind) throws {
        let sample = try #require(SchemaRegistry.sample(kind))
        let event = try decoder.decode(Array(sample.utf8), sourceTopic: kind.topic).get()
        #expect(event.kind == kind)
        #expect(event.accountId == "acme")
    }

    func sampleDocument(_ kind: EventKind) throws -> JSONValue {
        try JSONParser.parse(try #require(SchemaRegistry.sample(kind)))
    }

    func decode(_ document: JSONValue, topic: String = EventKind.inboundText.topic) -> EventDecoder.Rejection? {
        if case .failure(let rejection) = decoder.decode(Array(document.serialized().utf8), sourceTopic: topic) {
            return rejection
        }
        return nil
    }

    func mutating(_ kind: EventKind, _ change: (inout [String: JSONValue], inout [String: JSONValue]) -> Void) throws
        -> JSONValue
    {
        var envelope = try #require(try sampleDocument(kind).objectValue)
        var data = try #require(envelope["data"]?.objectValue)
        change(&envelope, &data)
        envelope["data"] = .object(data)
        return .object(envelope)
    }

    @Test("a missing required field names the field")
    func missingField() throws {
        let document = try mutating(.inboundText) { _, data in data["from"] = nil }
        let rejection = try #require(decode(document))
        #expect(rejection.errorClass == "event.schema_invalid")
        #expect(rejection.reason.contains("/data: missing required property \"from\""))
    }

    @Test("wrong types, bad phones, bad times and oversized fields are each rejected at their path")
    func invalidFields() throws {
        let cases: [(JSONValue, String)] = [
            (try mutating(.inboundText) { _, data in data["from"] = "5551234" }, "/data/from: does not match pattern"),
            (try mutating(.inboundText) { _, data in data["body"] = 42 }, "/data/body: expected string, got integer"),
            (
                try mutating(.inboundText) { _, data in data["receivedAt"] = "yesterday" },
                "/data/receivedAt: not a valid date-time"
            ),
            (
                try mutating(.inboundText) { _, data in data["body"] = .string(String(repeating: "x", count: 20001)) },
                "longer than 20000"
            ),
            (
                try mutating(.inboundText) { _, data in data["accountId"] = "acme'; DROP TABLE accounts;--" },
                "/data/accountId: does not match"
            ),
            (
                try mutating(.inboundText) { _, data in
                    data["media"] = [["url": "not a uri", "contentType": "image/png"]]
                }, "/data/media/0/url: not a valid uri"
            ),
        ]
        for (document, expected) in cases {
            let rejection = try #require(decode(document))
            #expect(rejection.reason.contains(expected), "\(rejection.reason)")
        }
        let ticket = try mutating(.helpdeskMessage) { _, data in data["ticketId"] = "86538298" }
        #expect(
            decode(ticket, topic: EventKind.helpdeskMessage.topic)?.reason.contains(
                "/data/ticketId: expected integer, got string") == true)
        let status = try mutating(.ticketStatus) { _, data in data["status"] = "snoozed" }
        #expect(
            decode(status, topic: EventKind.ticketStatus.topic)?.reason.contains("must be one of open, closed") == true)
    }

    @Test("unknown extra fields are allowed for forward compatibility")
    func extraFields() throws {
        let document = try mutating(.inboundText) { envelope, data in
            data["carrier"] = "acme-mobile"
            envelope["traceparent"] = "00-abc"
        }
        #expect(decode(document) == nil)
    }

    @Test("envelope problems get their own error classes")
    func envelope() throws {
        let future = try mutating(.inboundText) { envelope, _ in envelope["specversion"] = "2.0" }
        #expect(decode(future)?.errorClass == "event.unsupported_specversion")
        let unknown = try mutating(.inboundText) { envelope, _ in envelope["type"] = "sms.message.exploded" }
        #expect(decode(unknown)?.errorClass == "event.unknown_type")
        let misplaced = try sampleDocument(.deliveryStatus)
        #expect(decode(misplaced)?.errorClass == "event.wrong_topic")
        #expect(
            decoder.decode(Array("not json".utf8), sourceTopic: "sms.inbound").failureClass == "record.invalid_json")
        #expect(decoder.decode([0xFF, 0xFE], sourceTopic: "sms.inbound").failureClass == "record.invalid_json")
        #expect(
            EventDecoder(maximumRecordBytes: 10).decode(Array("{\"a\": 12345678}".utf8), sourceTopic: "sms.inbound")
                .failureClass == "record.too_large")
    }

    @Test("validation messages never echo the offending value")
    func noValuesInMessages() throws {
        let secret = "+1555SECRETVALUE"
        let document = try mutating(.inboundText) { _, data in data["from"] = .string(secret) }
        #expect(decode(document)?.reason.contains(secret) == false)
    }
}

extension Result where Failure == EventDecoder.Rejection {
    var failureClass: String? {
        if case .failure(let rejection) = self { return rejection.errorClass }
        return nil
    }
}
