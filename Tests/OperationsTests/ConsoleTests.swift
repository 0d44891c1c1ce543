import Foundation
import Testing
import SwitchboardBase
import LocalFleet
import SwitchboardEvents
import SwitchboardHTTP
import SwitchboardKafka
import SwitchboardRuntime
import TestSupport
import SwitchboardJSON

/// `switchboard-console` as an operator runs it: every page needs the token; with it, the pages show what the CLI
/// shows (lag by group, merchants and their health, dead letters, a trace) with phone numbers masked.
@Suite("switchboard-console", .serialized, .timeLimit(.minutes(3)))
struct ConsoleTests {
    static let token = "console-token-0123456789abcdef"

    @Test(
        "every route refuses a request without the token; with it (header or sign-in cookie) each page shows its data")
    func pages() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(E2EFleet.TestAccount(id: "acme"))
        try await fleet.produce([
            OutgoingRecord(
                topic: "sms.inbound.dlq", key: Array("acme:+15551234567".utf8), value: Array("{}".utf8),
                headers: [
                    KafkaHeader(key: FailureHeaders.errorClass, value: Array("gorgias.rejected".utf8)),
                    KafkaHeader(key: FailureHeaders.errorMessage, value: Array("HTTP 400 from +15551234567".utf8)),
                ])
        ])
        let weak = try await CLIProcess.run(
            ["--port", "0"],
            environment: Self.environment(fleet).merging(["SWITCHBOARD_CONSOLE_TOKEN": "short"]) { $1 },
            executable: .console)
        #expect(weak.status == 78 && weak.errors.contains("SWITCHBOARD_CONSOLE_TOKEN"), "\(weak.errors)")

        let (console, url) = try await Self.startConsole(fleet)
        let http = HTTPClient()
        defer { Task { await http.shutdown() } }
        func get(_ path: String, _ headers: [(String, String)] = []) async throws -> APIResponse {
            try await http.execute(APIRequest(url: "\(url)\(path)", headers: headers, service: "console"))
        }
        let routes = [
            "/", "/merchants", "/dlq", "/dlq?topic=sms.inbound", "/dlq/record?at=sms.inbound.dlq:0:0", "/trace",
            "/trace?account=acme&phone=%2B15551234567",
        ]
        for route in routes {
            #expect(try await get(route).status == 401, "\(route) without a token")
            #expect(try await get(route, [("Authorization", "Bearer wrong-\(Self.token)")]).status == 401, "\(route)")
            #expect(try await get(route, [("Cookie", "switchboard_console_session=nope")]).status == 401, "\(route)")
        }
        let bearer = [("Authorization", "Bearer \(Self.token)")]
        let fleetPage = try await get("/", bearer)
        #expect(fleetPage.status == 200 && fleetPage.bodyText.contains(FleetRoster.inbound.group))
        let merchants = try await get("/merchants", bearer).bodyText
        #expect(merchants.contains("acme") && merchants.contains("connected"))
        let letters = try await get("/dlq", bearer).bodyText
        #expect(letters.contains("gorgias.rejected") && letters.contains("sms.inbound.dlq:"), "\(letters)")
        #expect(!letters.contains("+15551234567") && letters.contains("+1555•••4567"), "phone numbers are masked")
        let badFilter = try await get("/dlq?topic=nonsense", bearer)
        #expect(badFilter.status == 400 && badFilter.bodyText.contains("nonsense"), "a bad filter is named, not a 500")
        #expect(try await get("/dlq?account=other", bearer).bodyText.contains("Nothing to show"), "filtered by account")
        let redrive = try await http.execute(
            APIRequest(
                method: "POST", url: "\(url)/dlq/redrive",
                headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: Array("rate=5&dry_run=1".utf8), service: "console"))
        #expect(redrive.status == 401, "a redrive without the token is refused")
        let trace = try await get("/trace?account=acme&phone=%2B15551234567", bearer)
        #expect(trace.status == 200 && trace.bodyText.contains("Trace of acme"))

        // A browser signs in once; the cookie then opens every page.
        let refused = try await http.execute(
            APIRequest(
                method: "POST", url: "\(url)/login", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: Array("token=wrong".utf8), service: "console"))
        #expect(refused.status == 401 && refused.header("Set-Cookie") == nil)
        let signIn = try await http.execute(
            APIRequest(
                method: "POST", url: "\(url)/login", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: Array("token=\(Self.token)".utf8), service: "console"))
        let cookie = try #require(signIn.header("Set-Cookie"))
        #expect(signIn.status == 303 && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        let withCookie = try await get("/merchants", [("Cookie", String(cookie.prefix { $0 != ";" }))])
        #expect(withCookie.status == 200 && withCookie.bodyText.contains("acme"))

        console.send(SIGTERM)
        #expect(await console.wait(timeout: .seconds(20)) == 0, "\(console.errors)")
        await fleet.shutdown()
    }

    @Test(
        "in Chromium: sign in, open every page, find a dead-lettered text, redrive it and see it reach Gorgias"
    )
    func inChromium() async throws {
        let fleet = try await E2EFleet()
        let acme = E2EFleet.TestAccount(id: "acme")
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        // A text the InboundWorker dead-lettered while Gorgias was down, as its DLQ record looks.
        let text = InboundText(
            accountId: acme.id, messageSid: "SMconsole1", from: "+15551234567", to: acme.number,
            body: "Where is my order?", receivedAt: Date()
        ).record(id: "SMconsole1", source: "test")
        try await fleet.produce([
            OutgoingRecord(
                topic: "sms.inbound.dlq", key: text.key, value: text.value,
                headers: [
                    KafkaHeader(key: FailureHeaders.originalTopic, string: "sms.inbound"),
                    KafkaHeader(key: FailureHeaders.errorClass, string: "gorgias.unavailable"),
                    KafkaHeader(key: FailureHeaders.errorMessage, string: "HTTP 503 after 6 attempts"),
                    KafkaHeader(key: FailureHeaders.deadLetterKind, string: "retries-exhausted"),
                ])
        ])
        let (console, url) = try await Self.startConsole(fleet)
        let browser = try await HeadlessChromium()
        defer { browser.close() }
        let shots = URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["CONSOLE_SCREENSHOTS"] ?? ".build/console-screenshots")

        try await browser.open("\(url)/")
        #expect(try await browser.text().contains("sign in at /login"), "no page without signing in")
        try await browser.open("\(url)/login")
        _ = try await browser.evaluate("document.querySelector('input[name=token]').value = '\(Self.token)'")
        let landed = try await browser.click("button")
        #expect(landed == "\(url)/", "signing in leads to the fleet page")
        let fleetPage = try await browser.text()
        // librdkafka's mock cluster does not answer DescribeGroups: the page names that instead of the members.
        #expect(
            fleetPage.contains("\(FleetRoster.inbound.group)\tStable\t\(FleetRoster.inbound.group)-")
                || fleetPage.contains("\(FleetRoster.inbound.group)\tnot described: "),
            "the running InboundWorker is a member, or the reason it cannot be shown:\n\(fleetPage)")
        try await browser.screenshot(to: shots.appendingPathComponent("fleet.png"))

        try await browser.open("\(url)/merchants")
        #expect(try await browser.text().contains("acme"))
        try await browser.screenshot(to: shots.appendingPathComponent("merchants.png"))

        try await browser.open("\(url)/dlq?account=acme")
        let letters = try await browser.text()
        #expect(letters.contains("gorgias.unavailable") && letters.contains("+1555•••4567"), "\(letters)")
        try await browser.screenshot(to: shots.appendingPathComponent("dlq.png"))
        try await browser.click("td a")
        let detail = try await browser.text()
        #expect(detail.contains(FailureHeaders.errorClass) && detail.contains("HTTP 503 after 6 attempts"), "\(detail)")
        #expect(!detail.contains("Where is my order?"), "the message is not shown")
        try await browser.screenshot(to: shots.appendingPathComponent("dlq-record.png"))

        try await browser.open("\(url)/dlq?account=acme")
        try await browser.click("#redrive")
        #expect(try await browser.text().contains("Would redrive 1 record(s)"), "the dry run is the default")
        #expect(try await browser.text().contains("sms.inbound.dlq:"))
        try await browser.open("\(url)/dlq?account=acme")
        _ = try await browser.evaluate("document.querySelector('input[name=dry_run]').checked = false")
        try await browser.click("#redrive")
        let redriven = try await browser.text()
        #expect(redriven.contains("Redrove 1 record(s)"), "\(redriven)")

        func imported() async -> Bool {
            let tickets = (try? await fleet.gorgias(acme.id)["tickets"]?.arrayValue) ?? []
            return tickets.flatMap { $0["messages"]?.arrayValue ?? [] }.contains {
                $0["body_text"]?.stringValue?.contains("Where is my order?") == true
            }
        }
        #expect(await eventually(timeout: .seconds(30)) { await imported() }, "the redriven text reaches Gorgias")
        try await browser.open("\(url)/dlq?account=acme")
        #expect(try await browser.text().contains("Nothing to show"), "a redriven record is reviewed")
        try await browser.open("\(url)/trace?account=acme&phone=%2B15551234567")
        let trace = try await browser.text()
        #expect(trace.contains("processed") && trace.contains("dead-letter"), "\(trace)")
        try await browser.screenshot(to: shots.appendingPathComponent("trace.png"))

        console.send(SIGTERM)
        #expect(await console.wait(timeout: .seconds(20)) == 0, "\(console.errors)")
        await fleet.shutdown()
    }

    @Test(
        "sessions: the cookie is a random id with an expiry, never the token; a browser's post needs the same origin and the session's CSRF token; sign-out ends it; sign-ins are throttled; every page carries the strict headers"
    )
    func sessions() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(E2EFleet.TestAccount(id: "acme"))
        let (console, url) = try await Self.startConsole(fleet)
        let http = HTTPClient()
        defer { Task { await http.shutdown() } }
        func send(
            _ path: String, method: String = "GET", headers: [(String, String)] = [], form: String? = nil
        ) async throws -> APIResponse {
            try await http.execute(
                APIRequest(
                    method: method, url: "\(url)\(path)",
                    headers: headers + (form == nil ? [] : [("Content-Type", "application/x-www-form-urlencoded")]),
                    body: form.map { Array($0.utf8) }, service: "console"))
        }
        let signIn = try await send("/login", method: "POST", form: "token=\(Self.token)")
        let setCookie = try #require(signIn.header("Set-Cookie"))
        #expect(!setCookie.contains(Self.token), "the cookie is not the token")
        #expect(
            setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Max-Age=")
                && !setCookie.contains("Secure"), "\(setCookie) (Secure is left off on loopback only)")
        let cookie = ("Cookie", String(setCookie.prefix { $0 != ";" }))
        let page = try await send("/dlq", headers: [cookie])
        #expect(page.status == 200)
        let policy = try #require(page.header("Content-Security-Policy"))
        #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"))
        #expect(!policy.contains("script-src") && !policy.contains("unsafe-inline"), "no script at all")
        #expect(page.header("X-Content-Type-Options") == "nosniff" && page.header("Referrer-Policy") == "no-referrer")
        let csrf = try #require(
            page.bodyText.firstMatch(of: try Regex(#"name="csrf" value="([0-9a-f]{64})""#))?.output[1].substring)

        let redrive = "rate=5&dry_run=1"
        let noToken = try await send(
            "/dlq/redrive", method: "POST", headers: [cookie, ("Sec-Fetch-Site", "same-origin")], form: redrive)
        #expect(noToken.status == 403, "a browser's post without the session's CSRF token")
        let crossSite = try await send(
            "/dlq/redrive", method: "POST", headers: [cookie, ("Sec-Fetch-Site", "cross-site")],
            form: redrive + "&csrf=\(csrf)")
        #expect(crossSite.status == 403, "a cross-site post with the cookie")
        let otherOrigin = try await send(
            "/dlq/redrive", method: "POST", headers: [cookie, ("Origin", "https://evil.example")],
            form: redrive + "&csrf=\(csrf)")
        #expect(otherOrigin.status == 403, "a post from another origin")
        let sameOrigin = try await send(
            "/dlq/redrive", method: "POST", headers: [cookie, ("Origin", url)], form: redrive + "&csrf=\(csrf)")
        #expect(sameOrigin.status == 200, "\(sameOrigin.bodyText)")
        let bearer = try await send(
            "/dlq/redrive", method: "POST", headers: [("Authorization", "Bearer \(Self.token)")], form: redrive)
        #expect(bearer.status == 200, "a script with the token carries no cookie to forge")

        let signOut = try await send(
            "/logout", method: "POST", headers: [cookie, ("Sec-Fetch-Site", "same-origin")], form: "csrf=\(csrf)")
        #expect(signOut.status == 303 && signOut.header("Set-Cookie")?.contains("Max-Age=0") == true)
        #expect(try await send("/dlq", headers: [cookie]).status == 401, "the session ended everywhere")

        let badFilter = try await send(
            "/dlq?topic=--include-reviewed", headers: [("Authorization", "Bearer \(Self.token)")])
        #expect(badFilter.status == 400, "a bad filter value is a bad value, not a 500")

        for attempt in 1...5 {
            #expect(try await send("/login", method: "POST", form: "token=guess\(attempt)").status == 401)
        }
        #expect(try await send("/login", method: "POST", form: "token=guess6").status == 429, "sign-ins are throttled")
        #expect(
            try await send("/login", method: "POST", form: "token=\(Self.token)").status == 429,
            "even the right one, for now")

        console.send(SIGTERM)
        #expect(await console.wait(timeout: .seconds(20)) == 0, "\(console.errors)")
        await fleet.shutdown()
    }

    @Test("in Chromium: a crafted link to every console page runs nothing and injects no attribute")
    func craftedLinks() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(E2EFleet.TestAccount(id: "acme"))
        let (console, url) = try await Self.startConsole(fleet)
        let browser = try await HeadlessChromium()
        defer { browser.close() }
        try await browser.open("\(url)/login")
        _ = try await browser.evaluate("document.querySelector('input[name=token]').value = '\(Self.token)'")
        _ = try await browser.click("button")
        let payloads = [
            "\"\u{301} autofocus onfocus=document.title='pwned' x=\"",
            "\"><img src=x onerror=\"document.title='pwned'\">",
            "'><svg onload=document.title='pwned'>", "</title><script>document.title='pwned'</script>",
            "`\u{301}` onmouseover=document.title='pwned'",
        ]
        for payload in payloads {
            let value = HTML.percentEncoded(payload)
            for path in [
                "/trace?account=\(value)&phone=\(value)", "/dlq?topic=\(value)", "/dlq?since=\(value)",
                "/dlq?error_class=\(value)&account=\(value)", "/dlq/record?at=\(value)", "/?x=\(value)",
                "/merchants?x=\(value)",
            ] {
                try await browser.open(url + path)
                try await Task.sleep(for: .milliseconds(100))
                let injected = try await browser.evaluate(
                    "document.title + '|' + document.querySelectorAll('[onfocus],[onerror],[onload],[onmouseover],script,svg,img').length"
                )
                #expect(
                    injected.stringValue?.hasPrefix("Switchboard") == true
                        && injected.stringValue?.hasSuffix("|0") == true,
                    "\(path): \(injected)")
            }
        }
        // Property: random values of markup characters and combining marks, echoed into an attribute, read back by
        // the browser's own HTML parser exactly as they were sent.
        let seed = FuzzGenerator.seed
        var generator = FuzzGenerator(seed: seed)
        let alphabet = [
            "\"", "'", "<", ">", "&", "`", "=", " ", "a", "e\u{301}", "\u{301}", "\u{20DD}", "\u{FE0F}", "👩🏽‍💻",
        ]
        for _ in 0..<40 {
            let value = (1...Int.random(in: 1...16, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }.joined()
            try await browser.open("\(url)/trace?account=\(HTML.percentEncoded(value))")
            let read = try await browser.evaluate("document.querySelector('input[name=account]').value")
            #expect(
                read.stringValue == value, "seed \(seed): \(value.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        console.send(SIGTERM)
        #expect(await console.wait(timeout: .seconds(20)) == 0, "\(console.errors)")
        await fleet.shutdown()
    }

    /// What the console needs from the fleet's environment: the store, its secret key and the brokers.
    static func environment(_ fleet: E2EFleet) -> [String: String] {
        var environment = fleet.environment.filter {
            ["DATABASE_URL", "SWITCHBOARD_SECRET_KEY", "KAFKA_BROKERS"].contains($0.key) || $0.key.hasPrefix("KAFKA_")
        }
        environment["SWITCHBOARD_CONSOLE_TOKEN"] = Self.token
        return environment
    }

    /// Starts `switchboard-console` on a free port; returns it and its URL.
    static func startConsole(_ fleet: E2EFleet) async throws -> (CLIProcess, String) {
        let console = try CLIProcess(["--port", "0"], environment: environment(fleet), executable: .console)
        #expect(await eventually { console.output.contains("console listening on ") }, "\(console.errors)")
        let url = try #require(
            console.output.split(separator: "\n").first { $0.hasPrefix("console listening on ") }?
                .dropFirst("console listening on ".count))
        return (console, String(url))
    }
}
