import SwitchboardJSON
/// The compiled contracts from `schemas/` (embedded at build time), one per event type, plus their samples.
public final class SchemaRegistry: Sendable {
    public let schemas: [EventKind: JSONSchema]

    /// The registry built from the embedded `schemas/` directory. Compiled once per process.
    public static let shared: SchemaRegistry = {
        do {
            return try SchemaRegistry(files: EmbeddedSchemas.files)
        } catch {
            fatalError("the embedded schemas/ do not compile: \(error)")
        }
    }()

    /// Compiles `<type>.schema.json` files; every event type must have one.
    public init(files: [String: String]) throws {
        var schemas: [EventKind: JSONSchema] = [:]
        for kind in EventKind.allCases {
            guard let text = files["\(kind.type).schema.json"] else {
                throw JSONSchema.CompileError(reason: "schemas/\(kind.type).schema.json is missing")
            }
            do {
                schemas[kind] = try JSONSchema(try JSONParser.parse(text))
            } catch let error as JSONParser.Error {
                throw JSONSchema.CompileError(reason: "schemas/\(kind.type).schema.json: \(error)")
            }
        }
        self.schemas = schemas
    }

    /// The sample event of `kind` shipped in `schemas/samples/`.
    public static func sample(_ kind: EventKind) -> String? {
        EmbeddedSchemas.files["samples/\(kind.type).json"]
    }

    /// The raw schema text of `kind`.
    public static func schemaText(_ kind: EventKind) -> String? {
        EmbeddedSchemas.files["\(kind.type).schema.json"]
    }
}
