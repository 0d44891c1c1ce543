import ArgumentParser
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardHTTP
import OperatorKit

/// The console's HTTP server (Hummingbird). Every route but `/login` needs the token: `Authorization: Bearer …` or
/// the cookie `/login` sets. Compared in constant time; never logged.
struct ConsoleServer: Service {
    static let cookie = "switchboard_console"

    let host: String
    let port: Int
    let token: String
    let sources: ConsoleSources
    let logger: Logger

    func run() async throws {
        let router = Router()
        router.add(middleware: TokenCheck<BasicRequestContext>(token: token))
        router.get("/") { _, _ in
            Self.html(ConsolePage.fleet(try await sources.lag(), groups: await sources.groups()))
        }
        router.get("merchants") { _, _ in Self.html(ConsolePage.merchants(try await sources.merchants())) }
        router.get("dlq") { request, _ in
            let query = DeadLetterQuery(Self.query(request))
            return try await Self.refusingBadInput {
                Self.html(ConsolePage.deadLetters(try await sources.deadLetters(query), query: query))
            }
        }
        router.get("dlq/record") { request, _ in
            guard let letter = try await sources.deadLetter(at: Self.query(request)["at"] ?? "") else {
                return Self.html(ConsolePage.refused("No dead letter there."), status: .notFound)
            }
            return Self.html(ConsolePage.deadLetter(letter))
        }
        router.post("dlq/redrive") { request, _ in
            let form = try await Self.form(request)
            guard let rate = form["rate"].flatMap(Double.init), rate > 0, rate <= 1000 else {
                return Self.html(
                    ConsolePage.refused("The rate must be a number of records per second in (0, 1000]."),
                    status: .badRequest)
            }
            return try await Self.refusingBadInput {
                let outcome = try await sources.redrive(
                    DeadLetterQuery(form), rate: rate, dryRun: form["dry_run"] != nil)
                return Self.html(ConsolePage.redriven(outcome))
            }
        }
        router.get("trace") { request, _ in
            let query = Self.query(request)
            let (account, phone) = (query["account"].flatMap(Self.nonEmpty), query["phone"].flatMap(Self.nonEmpty))
            var entries: [TraceEntry]?
            if let account, let phone { entries = try await sources.trace(account: account, phone: phone) }
            return Self.html(ConsolePage.trace(account: account, phone: phone, entries: entries))
        }
        router.get("login") { _, _ in Self.html(ConsolePage.login) }
        router.get("healthz") { _, _ in "ok\n" }
        router.post("login") { request, _ in
            guard let given = try await Self.form(request)["token"],
                TokenCheck<BasicRequestContext>.same(given, token)
            else {
                return Self.html(ConsolePage.login, status: .unauthorized)
            }
            var headers = HTTPFields()
            headers[.location] = "/"
            headers[.setCookie] = "\(Self.cookie)=\(given); HttpOnly; SameSite=Strict; Path=/"
            return Response(status: .seeOther, headers: headers)
        }
        let application = Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                StandardOutput.line("console listening on http://\(host):\(channel.localAddress?.port ?? port)")
            },
            logger: logger)
        try await application.run()
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func query(_ request: Request) -> [String: String] {
        FormEncoding.fields(request.uri.query ?? "")
    }

    static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }

    /// A posted form's fields by name.
    static func form(_ request: Request) async throws -> [String: String] {
        var body = try await request.body.collect(upTo: 16 * 1024)
        return FormEncoding.fields(body.readString(length: body.readableBytes) ?? "")
    }

    /// The page `render` makes, or a 400 naming what was wrong with the input (an unknown topic, a bad time).
    static func refusingBadInput(_ render: () async throws -> Response) async throws -> Response {
        do {
            return try await render()
        } catch let error as ValidationError {
            return html(ConsolePage.refused(error.message), status: .badRequest)
        }
    }
}

/// Refuses every request without the console token, except the sign-in page and the health check probes call.
struct TokenCheck<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if ["/login", "/healthz"].contains(request.uri.path) { return try await next(request, context) }
        let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let cookie = request.headers[.cookie]?.split(separator: ";").compactMap { part -> String? in
            let pair = part.trimmingCharacters(in: .whitespaces)
            return pair.hasPrefix(ConsoleServer.cookie + "=")
                ? String(pair.dropFirst(ConsoleServer.cookie.count + 1)) : nil
        }.first
        guard let given = bearer ?? cookie, Self.same(given, token) else {
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = "Bearer"
            return Response(
                status: .unauthorized, headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: "sign in at /login\n")))
        }
        return try await next(request, context)
    }

    /// Equal, compared through their digests so the time taken says nothing about where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        Array(SHA256.hash(data: Data(a.utf8))) == Array(SHA256.hash(data: Data(b.utf8)))
    }
}
