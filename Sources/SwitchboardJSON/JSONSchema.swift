import Foundation

/// A compiled JSON Schema (draft 2020-12), supporting the keywords Switchboard's contracts use:
/// `type`, `enum`, `const`, `properties`, `required`, `additionalProperties`, `items`, `minItems`, `maxItems`,
/// `minLength`, `maxLength`, `pattern`, `format` (`date-time`, `uri`), `minimum`, `maximum`, `$ref` to `#/$defs/…`,
/// `anyOf`, `oneOf`, `allOf`. Unknown keywords are annotations and ignored, as the specification allows.
///
/// Validation messages name the failing location and rule, never the offending value (records hold message bodies).
public final class JSONSchema: Sendable {
    public struct CompileError: Error, CustomStringConvertible, Sendable {
        public var reason: String
        public var description: String { "invalid schema: \(reason)" }

        public init(reason: String) { self.reason = reason }
    }

    /// One failed rule at a JSON Pointer-like location (`/data/from`).
    public struct Issue: Sendable, CustomStringConvertible, Hashable {
        public var path: String
        public var message: String
        public var description: String { "\(path.isEmpty ? "/" : path): \(message)" }
    }

    private let root: Node

    public init(_ document: JSONValue) throws(CompileError) {
        var compiler = Compiler(definitions: document["$defs"]?.objectValue ?? [:])
        self.root = try compiler.compile(document, location: "#")
    }

    /// Every failed rule (at most `limit`); empty when `value` is valid.
    public func validate(_ value: JSONValue, limit: Int = 5) -> [Issue] {
        var issues: [Issue] = []
        root.validate(value, path: "", issues: &issues, limit: limit)
        return issues
    }
}

extension JSONSchema {
    /// A regular expression shared across threads. `@unchecked Sendable`: NSRegularExpression is immutable
    /// and documented thread-safe for matching.
    final class Pattern: @unchecked Sendable {
        let source: String
        let regex: NSRegularExpression
        /// A fast path for the anchored class-and-quantifier patterns the schemas use.
        let simple: SimplePattern?
        init(_ source: String) throws {
            self.source = source
            self.regex = try NSRegularExpression(pattern: source)
            self.simple = SimplePattern(source)
        }
        func matches(_ text: String) -> Bool {
            if let simple { return simple.matches(text) }
            return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
    }

    enum Additional: Sendable {
        case allowed
        case forbidden
        case schema(Node)
    }

    /// JSON Schema type names as bits, so a type check costs no string hashing.
    struct TypeSet: OptionSet, Sendable {
        let rawValue: UInt8
        static let null = TypeSet(rawValue: 1 << 0)
        static let boolean = TypeSet(rawValue: 1 << 1)
        static let integer = TypeSet(rawValue: 1 << 2)
        static let number = TypeSet(rawValue: 1 << 3)
        static let string = TypeSet(rawValue: 1 << 4)
        static let array = TypeSet(rawValue: 1 << 5)
        static let object = TypeSet(rawValue: 1 << 6)

        static let names: [(String, TypeSet)] = [
            ("null", .null), ("boolean", .boolean), ("integer", .integer), ("number", .number), ("string", .string),
            ("array", .array), ("object", .object),
        ]

        init(rawValue: UInt8) { self.rawValue = rawValue }

        init?(names: [String]) {
            var set = TypeSet()
            for name in names {
                guard let bit = Self.names.first(where: { $0.0 == name })?.1 else { return nil }
                set.insert(bit)
            }
            self = set
        }

        /// The type of `value`; a whole number is both integer and number.
        static func of(_ value: JSONValue) -> TypeSet {
            switch value {
            case .null: .null
            case .bool: .boolean
            case .int: [.integer, .number]
            case .double(let number): number.rounded() == number ? [.integer, .number] : .number
            case .string: .string
            case .array: .array
            case .object: .object
            }
        }

        var description: String { Self.names.filter { contains($0.1) }.map(\.0).joined(separator: " or ") }
    }

    final class Node: Sendable {
        let types: TypeSet?
        let enumValues: [JSONValue]?
        let constValue: JSONValue?
        let properties: [String: Node]
        let required: [String]
        let additional: Additional
        let items: Node?
        let minItems: Int?
        let maxItems: Int?
        let minLength: Int?
        let maxLength: Int?
        let pattern: Pattern?
        let format: String?
        let minimum: Double?
        let maximum: Double?
        let anyOf: [Node]
        let oneOf: [Node]
        let allOf: [Node]
        let reference: Node?
        let alwaysFails: Bool

        init(
            types: TypeSet?, enumValues: [JSONValue]?, constValue: JSONValue?, properties: [String: Node],
            required: [String], additional: Additional, items: Node?, minItems: Int?, maxItems: Int?,
            minLength: Int?, maxLength: Int?, pattern: Pattern?, format: String?, minimum: Double?,
            maximum: Double?, anyOf: [Node], oneOf: [Node], allOf: [Node], reference: Node?, alwaysFails: Bool
        ) {
            self.types = types
            self.enumValues = enumValues
            self.constValue = constValue
            self.properties = properties
            self.required = required
            self.additional = additional
            self.items = items
            self.minItems = minItems
            self.maxItems = maxItems
            self.minLength = minLength
            self.maxLength = maxLength
            self.pattern = pattern
            self.format = format
            self.minimum = minimum
            self.maximum = maximum
            self.anyOf = anyOf
            self.oneOf = oneOf
            self.allOf = allOf
            self.reference = reference
            self.alwaysFails = alwaysFails
        }

        func isValid(_ value: JSONValue) -> Bool {
            var issues: [Issue] = []
            validate(value, path: "", issues: &issues, limit: 1)
            return issues.isEmpty
        }

        func validate(_ value: JSONValue, path: String, issues: inout [Issue], limit: Int) {
            func fail(_ message: String, at location: String = path) {
                if issues.count < limit { issues.append(Issue(path: location, message: message)) }
            }
            if alwaysFails { return fail("no value is allowed here") }
            if let reference { reference.validate(value, path: path, issues: &issues, limit: limit) }
            if let types, types.isDisjoint(with: TypeSet.of(value)) {
                return fail("expected \(types.description), got \(value.schemaType)")
            }
            if let constValue, !Self.equal(value, constValue) {
                fail(constValue.stringValue.map { "must be \"\($0)\"" } ?? "must equal the schema's constant")
            }
            if let enumValues, !enumValues.contains(where: { Self.equal(value, $0) }) {
                let names = enumValues.compactMap(\.stringValue)
                fail(
                    names.isEmpty ? "not one of the allowed values" : "must be one of \(names.joined(separator: ", "))")
            }
            switch value {
            case .string(let text):
                if minLength != nil || maxLength != nil {
                    let length = text.unicodeScalars.count
                    if let minLength, length < minLength { fail("shorter than \(minLength) characters") }
                    if let maxLength, length > maxLength { fail("longer than \(maxLength) characters") }
                }
                if let pattern, !pattern.matches(text) { fail("does not match pattern \(pattern.source)") }
                if let format, !Self.conforms(text, to: format) { fail("not a valid \(format)") }
            case .int, .double:
                let number = value.doubleValue ?? 0
                if let minimum, number < minimum { fail("less than the minimum \(Self.render(minimum))") }
                if let maximum, number > maximum { fail("greater than the maximum \(Self.render(maximum))") }
            case .array(let elements):
                if let minItems, elements.count < minItems { fail("fewer than \(minItems) items") }
                if let maxItems, elements.count > maxItems { fail("more than \(maxItems) items") }
                if let items {
                    for (index, element) in elements.enumerated() where issues.count < limit {
                        validateChild(
                            items, element, component: String(index), path: path, issues: &issues, limit: limit)
                    }
                }
            case .object(let members):
                for name in required where members[name] == nil { fail("missing required property \"\(name)\"") }
                for (name, member) in members where issues.count < limit {
                    if let property = properties[name] {
                        validateChild(property, member, component: name, path: path, issues: &issues, limit: limit)
                    } else {
                        switch additional {
                        case .allowed: break
                        case .forbidden:
                            fail("unexpected property \"\(name.prefix(64))\"", at: "\(path)/\(Self.escape(name))")
                        case .schema(let node):
                            validateChild(node, member, component: name, path: path, issues: &issues, limit: limit)
                        }
                    }
                }
            default:
                break
            }
            if !allOf.isEmpty {
                for node in allOf { node.validate(value, path: path, issues: &issues, limit: limit) }
            }
            if !anyOf.isEmpty, !anyOf.contains(where: { $0.isValid(value) }) { fail("matches none of anyOf") }
            if !oneOf.isEmpty, oneOf.filter({ $0.isValid(value) }).count != 1 {
                fail("must match exactly one of oneOf")
            }
        }

        /// Validates a member or item, building its location string only when it has issues (the common valid
        /// case then costs no string work).
        private func validateChild(
            _ node: Node, _ value: JSONValue, component: String, path: String, issues: inout [Issue], limit: Int
        ) {
            let before = issues.count
            node.validate(value, path: "", issues: &issues, limit: limit)
            guard issues.count > before else { return }
            let prefix = "\(path)/\(Self.escape(component))"
            for index in before..<issues.count { issues[index].path = prefix + issues[index].path }
        }

        static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
            if let left = lhs.doubleValue, let right = rhs.doubleValue { return left == right }
            return lhs == rhs
        }

        static func conforms(_ text: String, to format: String) -> Bool {
            switch format {
            case "date-time":
                return RFC3339.parse(text) != nil
            case "uri":
                guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return false }
                let scheme = text[..<colon]
                guard scheme.first!.isLetter, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+.-".contains($0) })
                else {
                    return false
                }
                return !text.unicodeScalars.contains {
                    $0.value <= 0x20 || $0.value == 0x7F || "<>\"{}|\\^`".unicodeScalars.contains($0)
                }
            default:
                return true  // unknown formats are annotations
            }
        }

        static func render(_ number: Double) -> String {
            number.rounded() == number ? String(Int64(number)) : String(number)
        }

        static func escape(_ name: String) -> String {
            guard name.utf8.count <= 64,
                !name.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") })
            else {
                return String(name.prefix(64)).replacingOccurrences(of: "~", with: "~0").replacingOccurrences(
                    of: "/", with: "~1")
            }
            return name
        }
    }

    struct Compiler {
        let definitions: [String: JSONValue]
        var compiled: [String: Node] = [:]
        var inProgress: Set<String> = []

        mutating func compile(_ schema: JSONValue, location: String) throws(CompileError) -> Node {
            if case .bool(let allowed) = schema {
                return Node.trivial(alwaysFails: !allowed)
            }
            guard let keywords = schema.objectValue else {
                throw CompileError(reason: "\(location) is not a schema object")
            }
            var reference: Node?
            if let ref = keywords["$ref"]?.stringValue {
                reference = try resolve(ref, from: location)
            }
            var types: TypeSet?
            switch keywords["type"] {
            case .string(let name)?: types = TypeSet(names: [name])
            case .array(let names)?: types = TypeSet(names: names.compactMap(\.stringValue))
            case nil: types = nil
            default: throw CompileError(reason: "\(location)/type must be a string or an array")
            }
            if keywords["type"] != nil && types == nil {
                throw CompileError(reason: "\(location)/type names an unknown type")
            }
            var properties: [String: Node] = [:]
            for (name, subschema) in keywords["properties"]?.objectValue ?? [:] {
                properties[name] = try compile(subschema, location: "\(location)/properties/\(name)")
            }
            let additional: Additional =
                switch keywords["additionalProperties"] {
                case .bool(false)?: .forbidden
                case .object?:
                    .schema(
                        try compile(keywords["additionalProperties"]!, location: "\(location)/additionalProperties"))
                default: .allowed
                }
            let pattern: Pattern?
            if let source = keywords["pattern"]?.stringValue {
                do { pattern = try Pattern(source) } catch {
                    throw CompileError(reason: "\(location)/pattern is not a valid regex")
                }
            } else {
                pattern = nil
            }
            func nodes(_ name: String) throws(CompileError) -> [Node] {
                var result: [Node] = []
                for (index, subschema) in (keywords[name]?.arrayValue ?? []).enumerated() {
                    result.append(try compile(subschema, location: "\(location)/\(name)/\(index)"))
                }
                return result
            }
            return Node(
                types: types,
                enumValues: keywords["enum"]?.arrayValue,
                constValue: keywords["const"],
                properties: properties,
                required: (keywords["required"]?.arrayValue ?? []).compactMap(\.stringValue),
                additional: additional,
                items: try keywords["items"].map { (items) throws(CompileError) -> Node in
                    try compile(items, location: "\(location)/items")
                },
                minItems: keywords["minItems"]?.intValue.map(Int.init),
                maxItems: keywords["maxItems"]?.intValue.map(Int.init),
                minLength: keywords["minLength"]?.intValue.map(Int.init),
                maxLength: keywords["maxLength"]?.intValue.map(Int.init),
                pattern: pattern,
                format: keywords["format"]?.stringValue,
                minimum: keywords["minimum"]?.doubleValue,
                maximum: keywords["maximum"]?.doubleValue,
                anyOf: try nodes("anyOf"),
                oneOf: try nodes("oneOf"),
                allOf: try nodes("allOf"),
                reference: reference,
                alwaysFails: false
            )
        }

        mutating func resolve(_ ref: String, from location: String) throws(CompileError) -> Node {
            let prefix = "#/$defs/"
            guard ref.hasPrefix(prefix) else {
                throw CompileError(reason: "\(location): only #/$defs/… references are supported")
            }
            let name = String(ref.dropFirst(prefix.count))
            if let node = compiled[name] { return node }
            guard let definition = definitions[name] else {
                throw CompileError(reason: "\(location): unknown reference \(ref)")
            }
            guard inProgress.insert(name).inserted else {
                throw CompileError(reason: "\(location): recursive reference \(ref)")
            }
            let node = try compile(definition, location: ref)
            inProgress.remove(name)
            compiled[name] = node
            return node
        }
    }
}

extension JSONSchema.Node {
    static func trivial(alwaysFails: Bool) -> JSONSchema.Node {
        JSONSchema.Node(
            types: nil, enumValues: nil, constValue: nil, properties: [:], required: [], additional: .allowed,
            items: nil,
            minItems: nil, maxItems: nil, minLength: nil, maxLength: nil, pattern: nil, format: nil, minimum: nil,
            maximum: nil, anyOf: [], oneOf: [], allOf: [], reference: nil, alwaysFails: alwaysFails
        )
    }
}
