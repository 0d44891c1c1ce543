import Foundation
import SwitchboardHTTP
import SwitchboardJSON

/// Drives a running sandbox through its control routes (`/sandbox/...`): what customers and agents do, and what
/// the sandbox holds. Used by `switchboard-dev fleet` and the tests.
public struct SandboxControlClient: Sendable {
    public let url: String
    let http: HTTPClient

    public init(url: String, http: HTTPClient) {
        self.url = url
        self.http = http
    }

    /// A control route's answer that was not 2xx.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// GET a JSON control route.
    public func get(_ path: String) async throws -> JSONValue {
        try await call("GET", path, body: nil)
    }

    /// POST JSON to a control route; returns its JSON answer (null when it has none).
    @discardableResult
    public func post(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        try await call("POST", path, body: body)
    }

    private func call(_ method: String, _ path: String, body: JSONValue?) async throws -> JSONValue {
        let response = try await http.execute(
            APIRequest(
                method: method, url: url + path, headers: body == nil ? [] : [("Content-Type", "application/json")],
                body: body?.canonicalBytes()
            ))
        guard (200..<300).contains(response.status) else {
            throw Failure(
                description: "\(method) \(path) answered \(response.status): \(response.bodyText.prefix(300))")
        }
        return (try? JSONParser.parse(response.body)) ?? .null
    }
}
