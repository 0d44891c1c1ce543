import Foundation
import OpenAPIKit30
import Synchronization
import SwitchboardJSON

/// Twilio's APIs as its own OpenAPI documents describe them (`contracts/twilio/`, read with OpenAPIKit), plus what
/// they leave out (`extras.json`: media content, webhooks, the error body).
public struct TwilioContract: Sendable {
    struct Operation: Sendable {
        var key: String
        var api: ContractExchange.API
        var method: String
        var path: PathTemplate
        var query: Set<String>
        /// The form body's properties (converted schemas) and which are required; nil when the call takes no body.
        var form: (properties: [String: JSONValue], required: Set<String>)?
        /// The JSON answer's schema per status; nil for a status documented without a body.
        var responses: [Int: JSONValue?]
    }

    /// An example answer from the documents, with the call and status it belongs to.
    public struct Example: Sendable {
        public var method: String
        public var path: String
        public var status: Int
        public var name: String
        public var value: JSONValue
    }

    struct WebhookRule: Sendable {
        var required: [String]
        /// Parameter names (`MediaUrl{N}` stands for `MediaUrl0`…) and the pattern their values match ("" any).
        var parameters: [String: String]
    }

    let operations: [Operation]
    /// Every component schema of both documents, converted, under `#/$defs/<api>/<name>`.
    let definitions: [String: JSONValue]
    let error: SwitchboardJSON.JSONSchema
    let media: PathTemplate
    let mediaStatuses: Set<Int>
    let webhooks: [ContractWebhook.Kind: WebhookRule]
    public let examples: [Example]
    private let compiled = CompiledSchemas()

    init(folder: URL) throws {
        var operations: [Operation] = []
        var definitions: [String: JSONValue] = [:]
        var examples: [Example] = []
        for (file, api) in [
            ("twilio_api_v2010.json", ContractExchange.API.twilio), ("twilio_messaging_v1.json", .twilioMessaging),
        ] {
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            let document: OpenAPI.Document
            do {
                document = try JSONDecoder().decode(OpenAPI.Document.self, from: data)
            } catch {
                throw ContractError("\(file) is not an OpenAPI 3.0 document OpenAPIKit reads: \(error)")
            }
            let read = OpenAPIReading(api: api, components: document.components)
            for (name, schema) in document.components.schemas {
                definitions["\(api.rawValue)/\(name.rawValue)"] = try read.convert(schema)
            }
            for (path, item) in document.paths {
                guard let item = item.b else { continue }
                for endpoint in item.endpoints {
                    let operation = try read.operation(endpoint, path: path.rawValue, shared: item.parameters)
                    operations.append(operation)
                    examples += try read.examples(endpoint, path: path.rawValue)
                }
            }
        }
        self.operations = operations.sorted { $0.path.specificity > $1.path.specificity }
        self.definitions = definitions
        self.examples = examples
        let extras = try ContractFile.json(folder.appendingPathComponent("extras.json"))
        guard let errorSchema = extras["errorBody"]?["schema"], let mediaPath = extras["media"]?["path"]?.stringValue
        else { throw ContractError("extras.json needs errorBody.schema and media.path") }
        error = try SchemaBundle(definitions: [:]).compile(errorSchema)
        media = PathTemplate(mediaPath)
        mediaStatuses = Set((extras["media"]?["statuses"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int.init) })
        var webhooks: [ContractWebhook.Kind: WebhookRule] = [:]
        for (kind, name) in [(ContractWebhook.Kind.twilioInbound, "inbound"), (.twilioStatus, "status")] {
            let rule = extras["webhooks"]?[name]
            webhooks[kind] = WebhookRule(
                required: (rule?["required"]?.arrayValue ?? []).compactMap(\.stringValue),
                parameters: (rule?["parameters"]?.objectValue ?? [:]).compactMapValues(\.stringValue))
        }
        self.webhooks = webhooks
    }

    /// The converted schema of a component (`twilio/api.v2010.account.message`), compiled.
    public func component(_ name: String) throws -> SwitchboardJSON.JSONSchema {
        try schema(["$ref": .string("#/$defs/" + name)], key: "component " + name)
    }

    func drifts(_ exchange: ContractExchange) -> [String] {
        if exchange.api == .twilio && exchange.method == "GET" && media.matches(exchange.path) {
            return mediaDrifts(exchange)
        }
        guard
            let operation = operations.first(where: {
                $0.api == exchange.api && $0.method == exchange.method && $0.path.matches(exchange.path)
            })
        else {
            return ["no operation of Twilio's documents is \(exchange.method) \(exchange.path)"]
        }
        var problems = exchange.query.compactMap { name, _ in
            operation.query.contains(name) ? nil : "\(operation.key) has no query parameter \(name)"
        }
        problems += formDrifts(exchange, operation)
        problems += answerDrifts(exchange, operation)
        return problems
    }

    func drifts(_ webhook: ContractWebhook) -> [String] {
        guard let rule = webhooks[webhook.kind] else { return [] }
        let names = Set(webhook.parameters.map(\.0))
        var problems = rule.required.filter { !names.contains($0) }.map { "\(webhook.kind.rawValue) lacks \($0)" }
        for (name, value) in webhook.parameters {
            let key = rule.parameters[name] != nil ? name : name.replacing(/[0-9]+$/, with: "{N}")
            guard let pattern = rule.parameters[key] else {
                problems.append("\(webhook.kind.rawValue) has a parameter \(name) Twilio does not document")
                continue
            }
            if !pattern.isEmpty && !Pattern.somewhere(pattern, value) {
                problems.append("\(webhook.kind.rawValue) \(name) does not match \(pattern)")
            }
        }
        return problems
    }

    private func mediaDrifts(_ exchange: ContractExchange) -> [String] {
        guard mediaStatuses.contains(exchange.status) else {
            return ["media content does not answer \(exchange.status)"]
        }
        if (300..<400).contains(exchange.status),
            ContractExchange.header("Location", in: exchange.responseHeaders) == nil
        {
            return ["a media redirect without a Location header"]
        }
        return []
    }

    private func formDrifts(_ exchange: ContractExchange, _ operation: Operation) -> [String] {
        guard let form = operation.form else {
            return exchange.requestBody.isEmpty ? [] : ["\(operation.key) takes no body"]
        }
        let contentType = ContractExchange.header("Content-Type", in: exchange.requestHeaders) ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            return ["\(operation.key) takes a form body, not \(contentType.isEmpty ? "none" : contentType)"]
        }
        let fields = FormDecoding.decode(String(decoding: exchange.requestBody, as: UTF8.self))
        let names = Set(fields.map(\.0))
        var problems = form.required.subtracting(names).sorted().map { "\(operation.key) lacks required \($0)" }
        for name in Set(fields.map(\.0)).sorted() {
            guard let property = form.properties[name] else {
                problems.append("\(operation.key) has no form field \(name)")
                continue
            }
            let values = fields.filter { $0.0 == name }.map(\.1)
            problems += fieldDrifts(name, values, property, operation: operation)
        }
        return problems
    }

    /// Form values are text; each is read as the property's declared type before its schema checks it.
    private func fieldDrifts(_ name: String, _ values: [String], _ property: JSONValue, operation: Operation)
        -> [String]
    {
        let isArray = property["type"]?.stringValue == "array"
        if !isArray && values.count > 1 { return ["\(operation.key) \(name) is sent \(values.count) times"] }
        let itemSchema = isArray ? (property["items"] ?? [:]) : property
        guard let schema = try? schema(itemSchema, key: "\(operation.key) form \(name)") else {
            return ["\(operation.key) \(name): its schema does not compile"]
        }
        let declared = itemSchema["type"]?.stringValue
        return values.flatMap { text -> [String] in
            let value: JSONValue
            switch declared {
            case "integer":
                guard let number = Int64(text) else { return ["\(operation.key) \(name) is not an integer"] }
                value = .int(number)
            case "number":
                guard let number = Double(text) else { return ["\(operation.key) \(name) is not a number"] }
                value = .double(number)
            case "boolean":
                guard text == "true" || text == "false" else { return ["\(operation.key) \(name) is not true/false"] }
                value = .bool(text == "true")
            default:
                value = .string(text)
            }
            return schema.validate(value).map { "\(operation.key) \(name)\($0)" }
        }
    }

    private func answerDrifts(_ exchange: ContractExchange, _ operation: Operation) -> [String] {
        let body = exchange.responseBody.isEmpty ? nil : try? JSONParser.parse(exchange.responseBody)
        guard (200..<300).contains(exchange.status) else {
            guard let body else { return [] }
            return error.validate(body).map { "error answer \($0)" }
        }
        guard let documented = operation.responses[exchange.status] else {
            return ["\(operation.key) does not answer \(exchange.status)"]
        }
        guard let schemaJSON = documented else {
            return exchange.responseBody.isEmpty ? [] : ["\(operation.key) \(exchange.status) has no body"]
        }
        guard let body else { return ["\(operation.key): the answer is not JSON"] }
        guard let schema = try? schema(schemaJSON, key: "\(operation.key) \(exchange.status)") else {
            return ["\(operation.key) \(exchange.status): its schema does not compile"]
        }
        return schema.validate(body, limit: 10).map { "\(operation.key) answer \($0)" }
    }

    /// `schema` compiled against every component, once per key.
    private func schema(_ schema: JSONValue, key: String) throws -> SwitchboardJSON.JSONSchema {
        if let known = compiled.get(key) { return known }
        guard case .object(var root) = schema else { throw ContractError("\(key): not a schema object") }
        root["$defs"] = .object(definitions)
        let made: SwitchboardJSON.JSONSchema
        do { made = try SwitchboardJSON.JSONSchema(.object(root)) } catch { throw ContractError("\(key): \(error)") }
        compiled.set(key, made)
        return made
    }
}

/// Compiled schemas shared by every copy of a contract (it is a value; the cache is not).
final class CompiledSchemas: Sendable {
    private let schemas = Mutex<[String: SwitchboardJSON.JSONSchema]>([:])
    func get(_ key: String) -> SwitchboardJSON.JSONSchema? { schemas.withLock { $0[key] } }
    func set(_ key: String, _ schema: SwitchboardJSON.JSONSchema) { schemas.withLock { $0[key] = schema } }
}

/// Form bodies as Twilio reads them (`+` is a space; repeated names kept in order).
enum FormDecoding {
    static func decode(_ text: String) -> [(String, String)] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            return (parts.first ?? "", parts.count > 1 ? parts[1] : "")
        }
    }
}
