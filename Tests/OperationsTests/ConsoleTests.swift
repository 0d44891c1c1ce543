import Foundation
import Testing

@testable import Shared
import TestSupport

/// `switchboard console` as an operator runs it: every page needs the token; with it, the pages show what the CLI
/// shows (lag by group, merchants and their health, dead letters, a trace) with phone numbers masked.
@Suite("switchboard console", .serialized, .timeLimit(.minutes(3)))
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
        var environment = fleet.environment.filter {
            ["DATABASE_URL", "SWITCHBOARD_SECRET_KEY", "KAFKA_BROKERS"].contains($0.key) || $0.key.hasPrefix("KAFKA_")
        }
        environment["SWITCHBOARD_CONSOLE_TOKEN"] = Self.token
        let weak = try await CLIProcess.run(
            ["console", "--port", "0"], environment: environment.merging(["SWITCHBOARD_CONSOLE_TOKEN": "short"]) { $1 })
        #expect(weak.status == 78 && weak.errors.contains("SWITCHBOARD_CONSOLE_TOKEN"), "\(weak.errors)")

        let console = try CLIProcess(["console", "--port", "0"], environment: environment)
        #expect(await eventually { console.output.contains("console listening on ") }, "\(console.errors)")
        let url = try #require(
            console.output.split(separator: "\n").first { $0.hasPrefix("console listening on ") }?
                .dropFirst("console listening on ".count))
        let http = HTTPClient()
        defer { Task { await http.shutdown() } }
        func get(_ path: String, _ headers: [(String, String)] = []) async throws -> APIResponse {
            try await http.execute(APIRequest(url: "\(url)\(path)", headers: headers, service: "console"))
        }
        let routes = [
            "/", "/merchants", "/dlq", "/dlq?topic=sms.inbound", "/trace", "/trace?account=acme&phone=%2B15551234567",
        ]
        for route in routes {
            #expect(try await get(route).status == 401, "\(route) without a token")
            #expect(try await get(route, [("Authorization", "Bearer wrong-\(Self.token)")]).status == 401, "\(route)")
            #expect(try await get(route, [("Cookie", "switchboard_console=nope")]).status == 401, "\(route)")
        }
        let bearer = [("Authorization", "Bearer \(Self.token)")]
        let fleetPage = try await get("/", bearer)
        #expect(fleetPage.status == 200 && fleetPage.bodyText.contains(FleetRoster.inbound.group))
        let merchants = try await get("/merchants", bearer).bodyText
        #expect(merchants.contains("acme") && merchants.contains("connected"))
        let letters = try await get("/dlq", bearer).bodyText
        #expect(letters.contains("gorgias.rejected") && letters.contains("sms.inbound.dlq:"), "\(letters)")
        #expect(!letters.contains("+15551234567") && letters.contains("+1555•••4567"), "phone numbers are masked")
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
}
