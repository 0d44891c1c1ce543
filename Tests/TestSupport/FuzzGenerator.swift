import Foundation
import SwitchboardJSON

/// A seeded generator for the property tests: the same seed replays the same inputs, so a failure printed with
/// its seed reproduces with `SWITCHBOARD_FUZZ_SEED=<seed>`. `SWITCHBOARD_FUZZ_ITERATIONS` runs longer than CI's
/// brief default.
public struct FuzzGenerator: RandomNumberGenerator {
    public static var seed: UInt64 {
        ProcessInfo.processInfo.environment["SWITCHBOARD_FUZZ_SEED"].flatMap(UInt64.init)
            ?? UInt64(Date().timeIntervalSince1970)
    }
    public static var iterations: Int {
        ProcessInfo.processInfo.environment["SWITCHBOARD_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 3_000
    }

    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// SplitMix64.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    public mutating func bytes(maximumCount: Int) -> [UInt8] {
        (0..<Int.random(in: 0...maximumCount, using: &self)).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// A string mixing ASCII, JSON-significant characters, controls, non-BMP characters and bidi overrides.
    public mutating func string(maximumLength: Int = 24) -> String {
        let pools: [[Unicode.Scalar]] = [
            Array("abcXYZ019 +-_.:/".unicodeScalars), Array("\"\\{}[],".unicodeScalars),
            (0...31).compactMap(Unicode.Scalar.init), Array("é漢📦\u{202E}\u{FEFF}\u{10FFFF}".unicodeScalars),
        ]
        var text = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...maximumLength, using: &self) {
            text.append(pools.randomElement(using: &self)!.randomElement(using: &self)!)
        }
        return String(text)
    }

    /// Any JSON value, nested at most `depth` levels.
    public mutating func json(depth: Int = 3) -> JSONValue {
        switch Int.random(in: 0...(depth > 0 ? 7 : 4), using: &self) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &self))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &self))
        case 3: return .double(Double.random(in: -1e12...1e12, using: &self))
        case 4, 5: return .string(string())
        case 6: return .array((0..<Int.random(in: 0...4, using: &self)).map { _ in json(depth: depth - 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &self) {
                members[string(maximumLength: 8)] = json(depth: depth - 1)
            }
            return .object(members)
        }
    }

    /// JSON shaped like real event data: short ASCII keys, whole numbers, strings that need no escaping (some of
    /// them non-ASCII), nesting at most `depth` levels.
    public mutating func plainJSON(depth: Int = 3) -> JSONValue {
        let words = ["a", "b", "ab", "accountId", "phone", "state", "Body", "é", "📦 box", "-1", ""]
        switch Int.random(in: 0...(depth > 0 ? 6 : 3), using: &self) {
        case 0: return Bool.random(using: &self) ? .null : .bool(Bool.random(using: &self))
        case 1: return .int(Int64.random(in: -1_000_000...1_000_000, using: &self))
        case 2, 3: return .string(words.randomElement(using: &self)!)
        case 4: return .array((0..<Int.random(in: 0...4, using: &self)).map { _ in plainJSON(depth: depth - 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &self) {
                members[words.randomElement(using: &self)!] = plainJSON(depth: depth - 1)
            }
            return .object(members)
        }
    }
}
