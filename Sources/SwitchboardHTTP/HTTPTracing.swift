import Foundation
import Tracing

/// A client span per API call (Gorgias, the SMS provider, a webhook): service, method, host, path and status. The
/// query is left out (it can hold a customer's email or a webhook secret) and so is any path segment that looks
/// like a phone number or an email address.
enum HTTPTracing {
    static func clientSpan(_ request: APIRequest, _ send: () async throws -> APIResponse) async throws -> APIResponse {
        let url = URLComponents(string: request.url)
        let span = startSpan("\(request.service) \(request.method)", ofKind: .client)
        defer { span.end() }
        span.attributes["http.request.method"] = request.method
        span.attributes["server.address"] = url?.host ?? ""
        span.attributes["url.path"] = redacted(url?.path ?? "")
        span.attributes["switchboard.service"] = request.service
        do {
            let response = try await send()
            span.attributes["http.response.status_code"] = response.status
            if response.status >= 500 { span.setStatus(SpanStatus(code: .error, message: "HTTP \(response.status)")) }
            return response
        } catch let error as HTTPError {
            span.attributes["error.type"] = "\(error.kind)"
            span.setStatus(SpanStatus(code: .error, message: "\(error.kind)"))
            throw error
        }
    }

    /// `path` with segments that could identify a customer replaced.
    static func redacted(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            let text = segment.removingPercentEncoding ?? String(segment)
            return text.hasPrefix("+") || text.contains("@") ? "{redacted}" : String(segment)
        }.joined(separator: "/")
    }
}
