import Crypto
import Foundation
import SwitchboardJSON

/// A validated CloudEvents 1.0 JSON event.
public struct CloudEvent: Sendable {
    public var id: String
    public var source: String
    public var kind: EventKind
    public var time: Date?
    /// The event's `data`, valid against its schema.
    public var data: JSONValue
    /// SHA-256 of the canonical `data`: two deliveries with one id and different content are told apart by it.
    public var fingerprint: String

    public var type: String { kind.type }

    public init(id: String, source: String, kind: EventKind, time: Date?, data: JSONValue) {
        self.init(id: id, source: source, kind: kind, time: time, data: data, canonicalData: nil)
    }

    /// `canonicalData`: `data` as ``JSONValue/canonicalBytes()`` writes it, when the caller already has those bytes.
    init(id: String, source: String, kind: EventKind, time: Date?, data: JSONValue, canonicalData: ArraySlice<UInt8>?) {
        self.id = id
        self.source = source
        self.kind = kind
        self.time = time
        self.data = data
        self.fingerprint = canonicalData.map(Self.fingerprint(ofCanonical:)) ?? Self.fingerprint(of: data)
    }

    public static func fingerprint(of data: JSONValue) -> String {
        fingerprint(ofCanonical: data.canonicalBytes()[...])
    }

    private static func fingerprint(ofCanonical bytes: ArraySlice<UInt8>) -> String {
        let digest = SHA256.hash(data: bytes)
        let hexDigits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(32)
        for byte in digest.prefix(16) {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// The JSON document for this event (structured mode), ready to produce.
    public var document: JSONValue {
        var members: [String: JSONValue] = [
            "specversion": "1.0",
            "id": .string(id),
            "source": .string(source),
            "type": .string(type),
            "datacontenttype": "application/json",
            "data": data,
        ]
        if let time { members["time"] = .string(RFC3339.format(time, fractional: true)) }
        return .object(members)
    }

    /// The account id every Switchboard event carries in `data.accountId`.
    public var accountId: String? { data["accountId"]?.stringValue }
}
