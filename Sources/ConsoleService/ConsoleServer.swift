import ArgumentParser
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardBase
import SwitchboardHTTP
import SwitchboardWeb
import OperatorKit
import SwitchboardStore

/// The console's HTTP server (Hummingbird).
///
/// Who may do what: every route but `/login` and `/healthz` needs a caller — a script with
/// `Authorization: Bearer <SWITCHBOARD_CONSOLE_TOKEN>`, or a browser signed in at `/login`, which then holds a session
/// cookie with a random id (``WebSessions``), never the token. A browser's state-changing post (redrive, sign-out)
/// must come from the console's own origin and carry its session's CSRF token; sign-in attempts are throttled per
/// address. Every page is sent with ``WebPage``'s headers: no script runs, nothing frames it.
struct ConsoleServer: Service {
    let host: String
    let port: Int
    let token: String
    let sources: ConsoleSources
    let sessions: WebSessions
    let throttle: SignInThrottle
    let logger: Logger

    /// Who a request comes from.
    enum Caller {
        /// A script with the token: it reads, and may post (it carries no cookie a forged form could use).
        case bearer
        case session(WebSession)

        /// The token a page's forms carry (none for a script).
        var csrf: String? {
            if case .session(let session) = self { return session.csrf }
            return nil
        }
    }

    func run() async throws {
        let router = Router(context: ConsoleRequestContext.self)
        router.get("/") { request, _ in
            try await authenticated(request) { caller in
                page(ConsolePage.fleet(try await sources.lag(), groups: await sources.groups(), csrf: caller.csrf))
            }
        }
        router.get("merchants") { request, _ in
            try await authenticated(request) { caller in
                page(ConsolePage.merchants(try await sources.merchants(), csrf: caller.csrf))
            }
        }
        router.get("dlq") { request, _ in
            try await authenticated(request) { caller in
                let query = DeadLetterQuery(Self.query(request))
                return try await refusingBadInput {
                    page(ConsolePage.deadLetters(try await sources.deadLetters(query), query: query, csrf: caller.csrf))
                }
            }
        }
        router.get("dlq/record") { request, _ in
            try await authenticated(request) { caller in
                guard let letter = try await sources.deadLetter(at: Self.query(request)["at"] ?? "") else {
                    return page(ConsolePage.refused("No dead letter there."), status: .notFound)
                }
                return page(ConsolePage.deadLetter(letter, csrf: caller.csrf))
            }
        }
        router.post("dlq/redrive") { request, _ in
            let form = try await Self.form(request)
            return try await changing(request, form: form) { caller in
                guard let rate = form["rate"].flatMap(Double.init), rate > 0, rate <= 1000 else {
                    return page(
                        ConsolePage.refused("The rate must be a number of records per second in (0, 1000]."),
                        status: .badRequest)
                }
                return try await refusingBadInput {
                    let outcome = try await sources.redrive(
                        DeadLetterQuery(form), rate: rate, dryRun: form["dry_run"] != nil)
                    return page(ConsolePage.redriven(outcome, csrf: caller.csrf))
                }
            }
        }
        router.get("trace") { request, _ in
            try await authenticated(request) { caller in
                let query = Self.query(request)
                let (account, phone) = (query["account"].flatMap(Self.nonEmpty), query["phone"].flatMap(Self.nonEmpty))
                var entries: [TraceEntry]?
                if let account, let phone { entries = try await sources.trace(account: account, phone: phone) }
                return page(ConsolePage.trace(account: account, phone: phone, entries: entries, csrf: caller.csrf))
            }
        }
        router.get("healthz") { _, _ in "ok\n" }
        router.get("login") { _, _ in page(ConsolePage.login()) }
        router.post("login") { request, context in try await signIn(request, from: context.clientAddress) }
        router.post("logout") { request, _ in
            let form = try await Self.form(request)
            return try await changing(request, form: form) { _ in
                WebPage.redirect(to: "/login", setting: try await sessions.signOut(request))
            }
        }
        let application = Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                StandardOutput.line("console listening on http://\(host):\(channel.localAddress?.port ?? port)")
            },
            logger: logger)
        try await application.run()
    }

    // MARK: Who may do what

    /// Runs `handler` for a request with a caller, else answers 401.
    private func authenticated(_ request: Request, _ handler: (Caller) async throws -> Response) async throws
        -> Response
    {
        if let bearer = request.headers[.authorization], bearer.hasPrefix("Bearer ") {
            guard WebSessions.same(String(bearer.dropFirst(7)), token) else { return Self.unauthorized() }
            return try await handler(.bearer)
        }
        guard let session = try await sessions.session(of: request) else { return Self.unauthorized() }
        return try await handler(.session(session))
    }

    /// Runs `handler` for a state-changing request: a script with the token, or a signed-in browser posting from the
    /// console's own origin with its session's CSRF token.
    private func changing(_ request: Request, form: [String: String], _ handler: (Caller) async throws -> Response)
        async throws -> Response
    {
        try await authenticated(request) { caller in
            if case .session(let session) = caller {
                guard SameOrigin.check(request), let csrf = form["csrf"], WebSessions.same(csrf, session.csrf) else {
                    return page(
                        ConsolePage.refused("This form did not come from this console's own page; reload it."),
                        status: .forbidden)
                }
            }
            return try await handler(caller)
        }
    }

    private func signIn(_ request: Request, from address: String) async throws -> Response {
        guard throttle.allows(address) else {
            return page(ConsolePage.login(problem: "Too many attempts; wait a minute."), status: .tooManyRequests)
        }
        guard let given = try await Self.form(request)["token"], WebSessions.same(given, token) else {
            throttle.failed(address)
            logger.notice("console sign-in refused", metadata: ["client": "\(address)"])
            return page(ConsolePage.login(problem: "That is not the console token."), status: .unauthorized)
        }
        return WebPage.redirect(to: "/", setting: try await sessions.signIn("operator"))
    }

    // MARK: Answers

    private func page(_ html: HTML, status: HTTPResponse.Status = .ok) -> Response {
        WebPage.response(html, status: status, styles: [ConsolePage.style])
    }

    /// The page `render` makes, or a 400 naming what was wrong with the input (an unknown topic, a bad time).
    private func refusingBadInput(_ render: () async throws -> Response) async throws -> Response {
        do {
            return try await render()
        } catch let error as ValidationError {
            return page(ConsolePage.refused(error.message), status: .badRequest)
        }
    }

    static func unauthorized() -> Response {
        var headers = WebPage.securityHeaders(styles: [])
        headers[.wwwAuthenticate] = "Bearer"
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(
            status: .unauthorized, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "sign in at /login\n")))
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
}

/// The console's request context: Hummingbird's core storage and the client's address (for sign-in throttling).
struct ConsoleRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let clientAddress: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
