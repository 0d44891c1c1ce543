import HTTPTypes
import Hummingbird
import Tracing
import SwitchboardBase

/// Starts a trace per webhook while tracing is on: a server span named by the path (never the query: a Gorgias
/// webhook may carry its secret there) with the response status. The records the webhook produces carry its
/// context (``RecordTracing/carryingTrace(_:)``), so the workers' attempts continue the same trace.
struct WebhookTracing<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard TracingSwitch.isOn else { return try await next(request, context) }
        let span = startSpan(
            "webhook \(request.method.rawValue) \(request.uri.path)", context: .topLevel, ofKind: .server)
        defer { span.end() }
        span.attributes["http.request.method"] = request.method.rawValue
        span.attributes["url.path"] = request.uri.path
        let response = try await ServiceContext.$current.withValue(span.context) { try await next(request, context) }
        span.attributes["http.response.status_code"] = response.status.code
        if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
        return response
    }
}
