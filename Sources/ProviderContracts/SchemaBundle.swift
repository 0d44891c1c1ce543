import Foundation
import SwitchboardJSON

/// JSON Schema files that refer to one another by relative file name (`"$ref": "message.schema.json"`), compiled
/// one root at a time: every file becomes a `$defs` entry named by its path in the bundle, and each reference is
/// rewritten to that entry (``JSONSchema`` resolves `#/$defs/…` only).
struct SchemaBundle: Sendable {
    /// Schemas by path relative to the bundle's folder (`schemas/ticket.schema.json`), references already rewritten.
    private let definitions: [String: JSONValue]

    /// Reads every `*.schema.json` under `folder`.
    init(folder: URL) throws {
        var found: [String: JSONValue] = [:]
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            guard file.lastPathComponent.hasSuffix(".schema.json") else { continue }
            let relative = String(file.standardizedFileURL.path.dropFirst(folder.standardizedFileURL.path.count + 1))
            let directory = (relative as NSString).deletingLastPathComponent
            found[relative] = try Self.rewrite(try ContractFile.json(file), in: directory, file: relative)
        }
        definitions = found
    }

    init(definitions: [String: JSONValue]) { self.definitions = definitions }

    /// The compiled schema of the file at `path` (relative to the bundle's folder).
    func schema(_ path: String) throws -> JSONSchema {
        guard definitions[path] != nil else { throw ContractError("no schema \(path) in the contract") }
        return try compile(["$ref": .string("#/$defs/" + path)])
    }

    /// Compiles `schema` with every file of the bundle as a definition it may refer to.
    func compile(_ schema: JSONValue) throws -> JSONSchema {
        guard case .object(var root) = schema else { throw ContractError("a schema must be an object") }
        root["$defs"] = .object(definitions)
        do {
            return try JSONSchema(.object(root))
        } catch {
            throw ContractError("\(error)")
        }
    }

    /// Rewrites file references relative to `directory` into `#/$defs/<path>`.
    private static func rewrite(_ value: JSONValue, in directory: String, file: String) throws -> JSONValue {
        switch value {
        case .object(var members):
            for (key, member) in members {
                if key == "$ref", case .string(let reference) = member, !reference.hasPrefix("#") {
                    guard !reference.contains("#") else {
                        throw ContractError("\(file): a reference into another file (\(reference)) is not supported")
                    }
                    members[key] = .string("#/$defs/" + normalize(directory, reference))
                } else {
                    members[key] = try rewrite(member, in: directory, file: file)
                }
            }
            return .object(members)
        case .array(let items):
            return .array(try items.map { try rewrite($0, in: directory, file: file) })
        default:
            return value
        }
    }

    /// `schemas` + `../requests/x.schema.json` → `requests/x.schema.json`.
    static func normalize(_ directory: String, _ reference: String) -> String {
        var parts = directory.split(separator: "/").map(String.init)
        for part in reference.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(String(part))
            }
        }
        return parts.joined(separator: "/")
    }
}

/// A contract that cannot be read or used.
struct ContractError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Reading the contract folder's files.
enum ContractFile {
    static func json(_ file: URL) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ContractError("cannot read \(file.path)")
        }
        do {
            return try JSONParser.parse(Array(data))
        } catch {
            throw ContractError("\(file.lastPathComponent) is not JSON: \(error)")
        }
    }
}
