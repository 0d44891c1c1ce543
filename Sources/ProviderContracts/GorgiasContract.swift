import Foundation
import SwitchboardJSON

/// The Gorgias REST API as `contracts/gorgias/` writes it down: the operations Switchboard calls, what each may be
/// sent and answer, the headers every answer carries, and the 301s merged tickets and customers answer.
public struct GorgiasContract: Sendable {
    struct Operation: Sendable {
        var id: String
        var method: String
        var path: PathTemplate
        /// Allowed query parameters, with the pattern a value must match (nil: any value).
        var query: [String: String?]
        var request: JSONSchema?
        var multipart: Bool
        var responses: [Int: Answer]
        var scope: String?
    }

    /// What a 2xx answer's body is.
    enum Answer: Sendable {
        case empty
        case object(JSONSchema)
        /// The cursor envelope with items of this schema.
        case list(JSONSchema)
        /// A bare JSON array of items.
        case array(JSONSchema)
    }

    struct MergedRule: Sendable {
        var path: PathTemplate
        var location: String
        var emptyBody: Bool
    }

    /// A documented example object and the schema it follows (`contracts/gorgias/examples/`).
    public struct Example: Sendable {
        public var name: String
        public var schema: String
        public var value: JSONValue
    }

    let operations: [Operation]
    let merged: [MergedRule]
    let error: JSONSchema
    let list: JSONSchema
    let everyResponse: [(String, String)]
    let on429: [(String, String)]
    let bundle: SchemaBundle
    /// OAuth scopes the reference lists, and those it deprecates.
    public let documentedScopes: Set<String>
    public let deprecatedScopes: Set<String>
    public let examples: [Example]

    init(folder: URL) throws {
        let bundle = try SchemaBundle(folder: folder)
        self.bundle = bundle
        let document = try ContractFile.json(folder.appendingPathComponent("operations.json"))
        func answer(_ value: JSONValue) throws -> Answer {
            switch value {
            case .null: return .empty
            case .string(let path): return .object(try bundle.schema(path))
            case .object(let shape):
                if let item = shape["list"]?.stringValue { return .list(try bundle.schema(item)) }
                if let item = shape["array"]?.stringValue { return .array(try bundle.schema(item)) }
                throw ContractError("an answer is a schema path, {list: …} or {array: …}")
            default: throw ContractError("an answer is a schema path, {list: …} or {array: …}")
            }
        }
        operations = try (document["operations"]?.arrayValue ?? []).map { entry in
            guard let id = entry["id"]?.stringValue, let method = entry["method"]?.stringValue,
                let path = entry["path"]?.stringValue
            else { throw ContractError("an operation needs id, method and path") }
            var responses: [Int: Answer] = [:]
            for (status, shape) in entry["responses"]?.objectValue ?? [:] {
                guard let code = Int(status) else { throw ContractError("\(id): status \(status) is not a number") }
                responses[code] = try answer(shape)
            }
            return Operation(
                id: id, method: method, path: PathTemplate(path),
                query: (entry["query"]?.objectValue ?? [:]).mapValues { $0["pattern"]?.stringValue },
                request: try entry["request"]?.stringValue.map(bundle.schema),
                multipart: entry["multipart"]?.boolValue ?? false, responses: responses,
                scope: entry["scope"]?.stringValue)
        }
        merged = (document["merged"]?.arrayValue ?? []).compactMap { rule in
            guard let path = rule["path"]?.stringValue, let location = rule["location"]?.stringValue else { return nil }
            return MergedRule(
                path: PathTemplate(path), location: location, emptyBody: rule["emptyBody"]?.boolValue ?? false)
        }
        func headerRules(_ value: JSONValue?) -> [(String, String)] {
            (value?.objectValue ?? [:]).compactMap { name, pattern in pattern.stringValue.map { (name, $0) } }
        }
        everyResponse = headerRules(document["headers"]?["everyResponse"])
        on429 = headerRules(document["headers"]?["on429"])
        error = try bundle.schema("schemas/error.schema.json")
        list = try bundle.schema("schemas/list.schema.json")
        documentedScopes = Set((document["scopes"]?["documented"]?.arrayValue ?? []).compactMap(\.stringValue))
        deprecatedScopes = Set((document["scopes"]?["deprecated"]?.arrayValue ?? []).compactMap(\.stringValue))
        let exampleFolder = folder.appendingPathComponent("examples")
        examples = try FileManager.default.contentsOfDirectory(atPath: exampleFolder.path).sorted()
            .filter { $0.hasSuffix(".json") }
            .map { name in
                let file = try ContractFile.json(exampleFolder.appendingPathComponent(name))
                guard let schema = file["schema"]?.stringValue, let value = file["value"] else {
                    throw ContractError("example \(name) needs schema and value")
                }
                return Example(name: name, schema: schema, value: value)
            }
    }

    /// The compiled schema of a contract file (`schemas/file.schema.json`).
    public func schema(_ path: String) throws -> JSONSchema { try bundle.schema(path) }

    /// The scope `method path` needs, if the contract names one.
    public func scope(method: String, path: String) -> String? {
        operations.first { $0.method == method && $0.path.matches(path) }?.scope
    }

    /// Everything about `exchange` the contract does not allow.
    func drifts(_ exchange: ContractExchange) -> [String] {
        var problems: [String] = []
        if exchange.status != 401 {
            for (name, pattern) in everyResponse {
                guard let value = ContractExchange.header(name, in: exchange.responseHeaders) else {
                    problems.append("the answer has no \(name) header")
                    continue
                }
                if !Pattern.whole(pattern, value) { problems.append("\(name) \(value) is malformed") }
            }
        }
        if exchange.status == 429 {
            for (name, pattern) in on429
            where
                !(ContractExchange.header(name, in: exchange.responseHeaders).map { Pattern.whole(pattern, $0) }
                ?? false)
            {
                problems.append("a 429 without a valid \(name) header")
            }
        }
        if (300..<400).contains(exchange.status) {
            return problems + movedDrifts(exchange)
        }
        guard
            let operation = operations.first(where: {
                $0.method == exchange.method && $0.path.matches(exchange.path)
            })
        else {
            return problems + ["no operation of the contract is \(exchange.method) \(exchange.path)"]
        }
        for (name, value) in exchange.query {
            guard let rule = operation.query[name] else {
                problems.append("\(operation.id) has no query parameter \(name)")
                continue
            }
            if let rule, !Pattern.whole(rule, value) {
                problems.append("\(operation.id): query \(name) does not match its pattern")
            }
        }
        problems += requestDrifts(exchange, operation)
        problems += answerDrifts(exchange, operation)
        return problems
    }

    private func requestDrifts(_ exchange: ContractExchange, _ operation: Operation) -> [String] {
        let contentType = ContractExchange.header("Content-Type", in: exchange.requestHeaders) ?? ""
        if operation.multipart {
            return contentType.hasPrefix("multipart/form-data")
                ? [] : ["\(operation.id) takes a multipart/form-data body, not \(contentType)"]
        }
        guard let schema = operation.request else {
            return exchange.requestBody.isEmpty ? [] : ["\(operation.id) takes no body"]
        }
        guard contentType.hasPrefix("application/json") else {
            return ["\(operation.id) takes a JSON body, not \(contentType.isEmpty ? "none" : contentType)"]
        }
        guard let body = try? JSONParser.parse(exchange.requestBody) else {
            return ["\(operation.id): the request body is not JSON"]
        }
        return schema.validate(body).map { "\(operation.id) request \($0)" }
    }

    private func answerDrifts(_ exchange: ContractExchange, _ operation: Operation) -> [String] {
        let body = exchange.responseBody.isEmpty ? nil : try? JSONParser.parse(exchange.responseBody)
        guard (200..<300).contains(exchange.status) else {
            guard let body else {
                return exchange.responseBody.isEmpty ? [] : ["the \(exchange.status) answer is not JSON"]
            }
            return error.validate(body).map { "error answer \($0)" }
        }
        guard let shape = operation.responses[exchange.status] else {
            return ["\(operation.id) does not answer \(exchange.status)"]
        }
        switch shape {
        case .empty:
            return []
        case .object(let schema):
            guard let body else { return ["\(operation.id): the answer is not JSON"] }
            return schema.validate(body).map { "\(operation.id) answer \($0)" }
        case .list(let item):
            guard let body else { return ["\(operation.id): the answer is not JSON"] }
            return list.validate(body).map { "\(operation.id) list \($0)" }
                + (body["data"]?.arrayValue ?? []).enumerated().flatMap { index, element in
                    item.validate(element).map { "\(operation.id) data/\(index)\($0)" }
                }
        case .array(let item):
            guard let items = body?.arrayValue else { return ["\(operation.id): the answer is not a JSON array"] }
            return items.enumerated().flatMap { index, element in
                item.validate(element).map { "\(operation.id) /\(index)\($0)" }
            }
        }
    }

    /// A redirect is allowed where the changelog says merged objects answer one: to the same kind of object.
    private func movedDrifts(_ exchange: ContractExchange) -> [String] {
        guard let rule = merged.first(where: { $0.path.matchesPrefix(exchange.path) }) else {
            return ["\(exchange.status) is not an answer the contract knows for \(exchange.path)"]
        }
        var problems: [String] = []
        guard let location = ContractExchange.header("Location", in: exchange.responseHeaders) else {
            return ["a \(exchange.status) without a Location header"]
        }
        if !Pattern.somewhere(rule.location, location) {
            problems.append("the redirect's Location does not name the same kind of object")
        }
        if rule.emptyBody && !exchange.responseBody.isEmpty { problems.append("a merged customer's 301 has a body") }
        return problems
    }
}

extension PathTemplate {
    /// Whether `path` starts with this template's segments (`/api/tickets/{id}` matches `/api/tickets/5/messages`).
    func matchesPrefix(_ path: String) -> Bool {
        let count = text.split(separator: "/").count
        let head = "/" + path.split(separator: "/").prefix(count).joined(separator: "/")
        return matches(head)
    }
}
