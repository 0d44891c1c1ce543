/// A strict RFC 8259 parser for untrusted records: rejects invalid UTF-8, unescaped control characters,
/// duplicate object keys, trailing data, and nesting deeper than ``maximumDepth``.
public struct JSONParser {
    /// Why a document was rejected, with the byte offset.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var reason: String
        public var offset: Int
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    public static let maximumDepth = 64

    public static func parse(_ bytes: [UInt8]) throws(Error) -> JSONValue {
        try parse(bytes, canonicalMember: nil).value
    }

    /// Parses a document and, when the value of its top-level member `member` is already written exactly as
    /// ``JSONValue/canonicalBytes()`` would write it, returns those bytes too: hashing them is the same as hashing the
    /// re-serialized value, without re-serializing (the event fingerprint's hot path).
    ///
    /// Canonical here is conservative: no whitespace, ASCII keys in strictly ascending order, strings without
    /// escapes (or the byte 0xE2, which leads U+2028/U+2029), integers as `String(Int64)` writes them, no fractions.
    public static func parse(_ bytes: [UInt8], canonicalMember member: String?) throws(Error) -> (
        value: JSONValue, canonicalMember: ArraySlice<UInt8>?
    ) {
        try bytes.withUnsafeBufferPointer {
            (buffer) throws(Error) -> (value: JSONValue, canonicalMember: ArraySlice<UInt8>?) in
            var parser = JSONParser(buffer: buffer, canonicalMember: member)
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            guard parser.index == buffer.count else { throw parser.error("unexpected data after the document") }
            return (value, parser.canonicalMemberRange.map { bytes[$0] })
        }
    }

    public static func parse(_ text: String) throws(Error) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private let buffer: UnsafeBufferPointer<UInt8>
    private var index = 0
    /// The top-level member whose canonical bytes are wanted, and where they are once found.
    private let canonicalMember: String?
    private var canonicalMemberRange: Range<Int>?
    /// Whether the value being parsed is canonical so far (see ``parse(_:canonicalMember:)``).
    private var canonical = true
    /// Whether the last string parsed was ASCII only.
    private var lastStringWasASCII = true

    private init(buffer: UnsafeBufferPointer<UInt8>, canonicalMember: String?) {
        self.buffer = buffer
        self.canonicalMember = canonicalMember
    }

    private func error(_ reason: String) -> Error { Error(reason: reason, offset: index) }

    private var current: UInt8? { index < buffer.count ? buffer[index] : nil }

    private mutating func skipWhitespace() {
        let start = index
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        if index != start { canonical = false }
    }

    private mutating func expect(_ literal: StaticString) throws(Error) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= buffer.count else { throw error("truncated literal") }
        for offset in 0..<count where buffer[index + offset] != literal.utf8Start[offset] {
            throw error("invalid literal")
        }
        index += count
    }

    private mutating func parseValue(depth: Int) throws(Error) -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth)") }
        guard let byte = current else { throw error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    private mutating func parseObject(depth: Int) throws(Error) -> JSONValue {
        index += 1
        var members: [String: JSONValue] = [:]
        var previousKey: Range<Int>?
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyOffset = index
            let key = try parseString()
            let keyRange = keyOffset + 1..<index - 1
            if !lastStringWasASCII
                || previousKey.map({ !buffer[$0].lexicographicallyPrecedes(buffer[keyRange]) }) == true
            {
                canonical = false  // the canonical writer sorts keys
            }
            previousKey = keyRange
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let valueStart = index
            let enclosingCanonical = canonical
            canonical = true
            let value = try parseValue(depth: depth + 1)
            if depth == 0, canonical, let canonicalMember, key == canonicalMember {
                canonicalMemberRange = valueStart..<index
            }
            canonical = canonical && enclosingCanonical
            guard members.updateValue(value, forKey: key) == nil else {
                throw Error(reason: "duplicate key \"\(key.prefix(64))\"", offset: keyOffset)
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(members)
            default: throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(Error) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default: throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func parseString() throws(Error) -> String {
        index += 1
        let start = index
        var highBits: UInt8 = 0
        // Fast path: no escapes.
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            guard byte >= 0x20 else { throw error("unescaped control character in string") }
            if byte == 0xE2 { canonical = false }  // may lead U+2028/U+2029, which the canonical writer escapes
            highBits |= byte
            index += 1
        }
        lastStringWasASCII = highBits < 0x80
        guard let terminator = current else { throw error("unterminated string") }
        if terminator == UInt8(ascii: "\"") {
            let slice = UnsafeBufferPointer(rebasing: buffer[start..<index])
            index += 1
            // ASCII is valid UTF-8 as it stands; anything else is validated.
            if lastStringWasASCII { return String(decoding: slice, as: UTF8.self) }
            guard let text = String(validating: slice, as: UTF8.self) else {
                throw Error(reason: "invalid UTF-8 in string", offset: start)
            }
            return text
        }
        canonical = false  // escapes are written back in the canonical writer's own way
        var bytes = Array(buffer[start..<index])
        while true {
            guard let byte = current else { throw error("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw Error(reason: "invalid UTF-8 in string", offset: start)
                }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                try parseEscape(into: &bytes)
            case ..<0x20:
                throw error("unescaped control character in string")
            default:
                bytes.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseEscape(into bytes: inout [UInt8]) throws(Error) {
        guard let byte = current else { throw error("unterminated escape") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""): bytes.append(0x22)
        case UInt8(ascii: "\\"): bytes.append(0x5C)
        case UInt8(ascii: "/"): bytes.append(0x2F)
        case UInt8(ascii: "b"): bytes.append(0x08)
        case UInt8(ascii: "f"): bytes.append(0x0C)
        case UInt8(ascii: "n"): bytes.append(0x0A)
        case UInt8(ascii: "r"): bytes.append(0x0D)
        case UInt8(ascii: "t"): bytes.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard current == UInt8(ascii: "\\"), index + 1 < buffer.count, buffer[index + 1] == UInt8(ascii: "u")
                else {
                    throw error("unpaired surrogate")
                }
                index += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid low surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error("unpaired surrogate")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid code point") }
            bytes.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            throw error("invalid escape")
        }
    }

    private mutating func parseHex4() throws(Error) -> UInt32 {
        guard index + 4 <= buffer.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit")
            }
            value = value * 16 + UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws(Error) -> JSONValue {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        guard let first = current, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
            throw error("invalid number")
        }
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw error("invalid fraction")
            }
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw error("invalid exponent")
            }
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self)
        if isInteger, let value = Int64(text) {
            if text == "-0" { canonical = false }
            return .int(value)
        }
        canonical = false  // fractions and exponents are written back as the writer formats a Double
        guard let value = Double(text), value.isFinite else {
            throw Error(reason: "number out of range", offset: start)
        }
        return .double(value)
    }
}
