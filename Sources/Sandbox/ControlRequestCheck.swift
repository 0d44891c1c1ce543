import HTTPTypes
import Hummingbird

/// Refuses control requests (`POST /sandbox/…`) a web page elsewhere could make: a browser sends any page's form or
/// `fetch` to the sandbox, and a plain-text post needs no preflight. Control posts must say
/// `Content-Type: application/json` and, when a browser adds an `Origin`, come from the sandbox's own page.
struct ControlRequestCheck<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.method == .post, request.uri.path.hasPrefix("/sandbox/") else {
            return try await next(request, context)
        }
        let json = request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true
        let sameOrigin =
            request.headers[.origin].map { origin in request.head.authority.map { origin == "http://\($0)" } ?? false }
            ?? true
        guard json && sameOrigin else {
            return Response(
                status: .forbidden,
                body: .init(byteBuffer: .init(string: "control requests must be JSON from the sandbox itself")))
        }
        return try await next(request, context)
    }
}
