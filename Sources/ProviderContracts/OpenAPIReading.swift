import Foundation
import OpenAPIKit30
import SwitchboardJSON

/// Reads one OpenAPI 3.0 document's operations and schemas into what ``TwilioContract`` checks with.
///
/// Schemas are OpenAPIKit's, encoded back to JSON and converted to the JSON Schema ``JSONSchema`` validates:
/// `#/components/schemas/X` becomes `#/$defs/<api>/X`; OpenAPI 3.0's `nullable: true` becomes a `null` type (or
/// enum value); `format: uri` is dropped, because Twilio answers relative references (`/2010-04-01/…`) under it.
struct OpenAPIReading {
    let api: ContractExchange.API
    let components: OpenAPI.Components

    func operation(_ endpoint: OpenAPI.PathItem.Endpoint, path: String, shared: OpenAPI.Parameter.Array) throws
        -> TwilioContract.Operation
    {
        let method = endpoint.method.rawValue.uppercased()
        let operation = endpoint.operation
        let parameters = (shared + operation.parameters).compactMap {
            (parameter: Either<JSONReference<OpenAPI.Parameter>, OpenAPI.Parameter>) -> OpenAPI.Parameter? in
            components[parameter]
        }
        var form: (properties: [String: JSONValue], required: Set<String>)?
        if let request = operation.requestBody.flatMap({ components[$0] }),
            let schema = request.content[.form]?.schema
        {
            let converted = try convert(try resolved(schema))
            form = (
                converted["properties"]?.objectValue ?? [:],
                Set((converted["required"]?.arrayValue ?? []).compactMap(\.stringValue))
            )
        }
        var responses: [Int: JSONValue?] = [:]
        for (status, response) in operation.responses {
            guard case .status(let code) = status.value, let response = components[response] else { continue }
            responses[code] = try response.content[.json]?.schema.map { try convert(try resolved($0)) }
        }
        return TwilioContract.Operation(
            key: "\(method) \(path)", api: api, method: method, path: PathTemplate(path),
            query: Set(parameters.filter { $0.location == .query }.map(\.name)), form: form, responses: responses)
    }

    func examples(_ endpoint: OpenAPI.PathItem.Endpoint, path: String) throws -> [TwilioContract.Example] {
        var found: [TwilioContract.Example] = []
        for (status, response) in endpoint.operation.responses {
            guard case .status(let code) = status.value, let response = components[response],
                let content = response.content[.json]
            else { continue }
            for (name, example) in content.examples ?? [:] {
                guard let value = components[example]?.value?.b else { continue }
                found.append(
                    TwilioContract.Example(
                        method: endpoint.method.rawValue.uppercased(), path: path, status: code, name: name,
                        value: try JSONParser.parse(Array(try JSONEncoder().encode(value)))))
            }
        }
        return found
    }

    /// A schema or the component it refers to, as JSON.
    private func resolved(
        _ schema: Either<JSONReference<OpenAPIKit30.JSONSchema>, OpenAPIKit30.JSONSchema>
    ) throws -> OpenAPIKit30.JSONSchema {
        switch schema {
        case .a(let reference): OpenAPIKit30.JSONSchema.reference(reference)
        case .b(let schema): schema
        }
    }

    func convert(_ schema: OpenAPIKit30.JSONSchema) throws -> JSONValue {
        convert(try JSONParser.parse(Array(try JSONEncoder().encode(schema))))
    }

    func convert(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(var members):
            for (key, member) in members { members[key] = convert(member) }
            if case .string(let reference)? = members["$ref"], reference.hasPrefix("#/components/schemas/") {
                members["$ref"] = .string(
                    "#/$defs/\(api.rawValue)/" + reference.dropFirst("#/components/schemas/".count))
            }
            if members["format"]?.stringValue == "uri" { members["format"] = nil }
            guard members.removeValue(forKey: "nullable")?.boolValue == true else { return .object(members) }
            if case .string(let type)? = members["type"] { members["type"] = [.string(type), "null"] }
            if case .array(let values)? = members["enum"] { members["enum"] = .array(values + [.null]) }
            if members["$ref"] != nil || members["allOf"] != nil || members["oneOf"] != nil {
                return ["anyOf": [.object(members), ["type": "null"]]]
            }
            return .object(members)
        case .array(let items):
            return .array(items.map(convert))
        default:
            return value
        }
    }
}
