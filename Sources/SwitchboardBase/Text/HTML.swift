/// HTML made by interpolation, escaped by construction: a `String` interpolated into it is escaped per Unicode scalar
/// (safe as element text and as a quoted attribute value), an `HTML` value is inserted as it is, and a value meant
/// for a URL's query goes through ``Interpolation/appendInterpolation(query:)``. The literal parts are the page's
/// own markup, written in code. A page made only of `HTML` cannot be turned into script by what it shows.
public struct HTML: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The markup.
    public private(set) var text: String

    public init(stringLiteral value: String) { text = value }
    public init(stringInterpolation: Interpolation) { text = stringInterpolation.text }
    /// Markup trusted as it is (a constant of the page's own).
    public init(trusted markup: String) { text = markup }

    public var description: String { text }

    public struct Interpolation: StringInterpolationProtocol {
        var text = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { text += literal }

        /// Text, escaped (line breaks kept as they are).
        public mutating func appendInterpolation(_ value: String) { text += HTMLText.escape(value, lineBreaks: false) }

        public mutating func appendInterpolation(_ value: some BinaryInteger) { text += String(value) }

        public mutating func appendInterpolation(_ value: HTML) { text += value.text }

        /// A value for a URL's query string: percent-encoded, then escaped for the attribute it sits in.
        public mutating func appendInterpolation(query value: String) {
            text += HTMLText.escape(HTML.percentEncoded(value), lineBreaks: false)
        }
    }

    public static func + (lhs: HTML, rhs: HTML) -> HTML { HTML(trusted: lhs.text + rhs.text) }

    public static func += (lhs: inout HTML, rhs: HTML) { lhs.text += rhs.text }

    /// Every byte outside RFC 3986's unreserved characters as `%XX`.
    public static func percentEncoded(_ value: String) -> String {
        var output = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                output.unicodeScalars.append("%")
                output.unicodeScalars.append(hex[Int(byte >> 4)])
                output.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return output
    }
}

extension Sequence where Element == HTML {
    /// The values one after the other.
    public func joined(separator: HTML = "") -> HTML {
        HTML(trusted: map(\.text).joined(separator: separator.text))
    }
}
