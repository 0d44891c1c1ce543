import Foundation
import Testing
import Ingress
import LocalFleet
import SwitchboardHTTP
import SwitchboardSMS
import SwitchboardStore
import TestSupport
import SwitchboardJSON
import SwitchboardDomain

/// Each attack of issue 21 against the real `switchboard-ingress` process, with bounds on memory, open connections
/// and CPU.
@Suite("Ingress abuse", .serialized, .timeLimit(.minutes(6)))
struct IngressAbuseTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    func post(_ http: HTTPClient, _ url: String, headers: [(String, String)] = [], body: [UInt8]) async throws
        -> APIResponse
    {
        try await http.execute(
            APIRequest(
                method: "POST", url: url, headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers,
                body: body))
    }

    /// Stands for "the connection closed before an answer" among HTTP statuses.
    static let closedOnOversizedRequest = -1

    @Test(
        "1,500 unauthenticated posts to made-up account ids grow the ingress by less than 16 MiB and all get the same 403"
    )
    func madeUpAccounts() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let ingress = try await IngressProcess(fleet)
        let before = try #require(ProcessUsage.of(ingress.pid)).rssMiB
        let statuses = try await HTTPClient.withClient { http in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<1500 {
                    let id =
                        index % 3 == 0
                        ? String(repeating: "x", count: 60_000) + String(index)
                        : "shop-\(UUID().uuidString.lowercased())"
                    let route = index % 2 == 0 ? "/gorgias/events/\(id)?k=guess" : "/twilio/inbound/\(id)"
                    let oversized = index % 3 == 0
                    group.addTask {
                        do {
                            return try await post(
                                http, ingress.url + route, headers: [("X-Twilio-Signature", "AAAA")],
                                body: Array("Body=hi".utf8)
                            ).status
                        } catch let error as HTTPError where oversized && error.kind == .connection {
                            // A server may close on a request line over its limit while the client still sends it;
                            // the client then sees the reset, not the 414/431 ahead of it. Either way: refused.
                            return Self.closedOnOversizedRequest
                        }
                    }
                    if index % 16 == 15 { _ = try await group.next() }
                }
                return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
            }
        }
        let after = try #require(ProcessUsage.of(ingress.pid)).rssMiB
        #expect(statuses.isSubset(of: [403, 414, 431, Self.closedOnOversizedRequest]), "\(statuses)")
        #expect(statuses.contains(403))
        #expect(after - before < 16, "grew \(after - before) MiB")
        await ingress.stop()
        await fleet.shutdown()
    }

    @Test(
        "half-sent requests are closed within the idle and read timeouts; an unsigned 1 MiB form is refused without being parsed"
    )
    func slowAndLarge() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let ingress = try await IngressProcess(fleet)
        let halfHeaders = try (0..<50).map { _ in try RawConnection(port: ingress.port) }
        for connection in halfHeaders { connection.send("POST /twilio/inbound/acme HTTP/1.1\r\nHost: 127.0.0.1\r\n") }
        let halfBody = try RawConnection(port: ingress.port)
        halfBody.send(
            "POST /twilio/inbound/acme HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Twilio-Signature: AAAA\r\nContent-Length: 100\r\n\r\nBody="
        )
        for connection in halfHeaders {
            #expect(
                connection.closedBy(.seconds(6)) != nil, "a half-sent request header stayed open past the idle timeout")
        }
        #expect(halfBody.closedBy(.seconds(6)) != nil, "a body that never arrives is refused and its connection closed")

        let form = Array(("Body=" + String(repeating: "a", count: 1024 * 1024)).utf8)
        let cpuBefore = try #require(ProcessUsage.of(ingress.pid)).cpuSeconds
        try await HTTPClient.withClient { http in
            for _ in 0..<24 {
                let unsigned = try await post(http, ingress.url + "/twilio/inbound/acme", body: form).status
                let signed = try await post(
                    http, ingress.url + "/twilio/inbound/acme", headers: [("X-Twilio-Signature", "AAAA")], body: form
                ).status
                #expect(unsigned == 403, "unsigned: refused before reading")
                #expect(signed == 413)
            }
        }
        let cpu = try #require(ProcessUsage.of(ingress.pid)).cpuSeconds - cpuBefore
        #expect(cpu < 1.0, "48 refused 1 MiB posts cost \(cpu) s of CPU")
        await ingress.stop()
        await fleet.shutdown()
    }

    @Test(
        "unknown accounts and known ones with a wrong credential get the same answer; a disconnect rotates the integration secret"
    )
    func enumerationAndRotation() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let ingress = try await IngressProcess(fleet)
        let endpoints = try await fleet.withStore { store in
            try await HTTPClient.withClient { http in
                try await IngressRegistration.connect(
                    accountId: "acme", ingressURL: ingress.url, store: store,
                    box: try SecretBox(base64Key: fleet.secretKey), http: http)
            }
        }
        let secret = try await fleet.withStore {
            try await $0.account(id: "acme")?.credentials(try SecretBox(base64Key: fleet.secretKey)).integrationSecret
        }
        let event = Array(
            #"{"event_type":"ticket-updated","ticket_id":"1","ticket_status":"closed","updated":"2026-11-24T10:00:00"}"#
                .utf8)
        try await HTTPClient.withClient { http in
            let unknown = try await post(
                http, ingress.url + "/twilio/inbound/nobody", headers: [("X-Twilio-Signature", "AAAA")],
                body: Array("Body=x".utf8))
            let wrong = try await post(
                http, endpoints.inbound, headers: [("X-Twilio-Signature", "AAAA")], body: Array("Body=x".utf8))
            #expect(
                unknown.status == 403 && wrong.status == 403 && unknown.body == wrong.body,
                "nothing tells a known account from an unknown one")
            let unknownGorgias = try await post(http, ingress.url + "/gorgias/events/nobody?k=guess", body: event)
            let wrongGorgias = try await post(http, endpoints.gorgias + "?k=guess", body: event)
            #expect(unknownGorgias.status == wrongGorgias.status && unknownGorgias.body == wrongGorgias.body)
            let before = try await post(http, endpoints.gorgias + "?k=\(secret ?? "")", body: event)
            #expect(before.status == 200)
            _ = try await fleet.withStore { store in
                try await IngressRegistration.disconnect(
                    accountId: "acme", store: store, box: try SecretBox(base64Key: fleet.secretKey), http: http)
            }
            try await Task.sleep(for: .seconds(11))  // the ingress' account cache (10 s)
            let stale = try await post(http, endpoints.gorgias + "?k=\(secret ?? "")", body: event).status
            #expect(stale == 403, "the old secret no longer works")
        }
        await ingress.stop()
        await fleet.shutdown()
    }

    @Test(
        "behind a trusted proxy the forwarded URL is what Twilio signed; on a non-loopback address without --public-url the ingress refuses to start"
    )
    func forwardedAndStart() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let ingress = try await IngressProcess(fleet, arguments: ["--trusted-proxy", "127.0.0.0/8"])
        let form = [
            ("MessageSid", "SMproxied0000000000000000000000001"), ("From", "+15551500001"), ("To", acme.number),
            ("Body", "through the proxy"),
        ]
        let signed = TwilioSignature.compute(
            url: "https://sms.example.com/twilio/inbound/acme", parameters: form, key: acme.twilioToken)
        try await HTTPClient.withClient { http in
            let response = try await post(
                http, ingress.url + "/twilio/inbound/acme",
                headers: [
                    ("X-Twilio-Signature", signed), ("X-Forwarded-Proto", "https"),
                    ("X-Forwarded-Host", "sms.example.com"),
                ],
                body: Array(FormEncoding.encode(form).utf8)
            )
            #expect(response.status == 200, "\(response.bodyText)")
        }
        #expect(try await fleet.broker.read("sms.inbound", atLeast: 1).count == 1)
        await ingress.stop()
        let refused = try await CLIProcess.run(
            ["--host", "0.0.0.0", "--port", String(freeLoopbackPort())], environment: fleet.environment,
            executable: .ingress)
        #expect(refused.status == 78 && refused.errors.contains("--public-url"), "\(refused.status) \(refused.errors)")
        await fleet.shutdown()
    }

    @Test("the same signed Twilio webhook delivered twice is one Gorgias message, a duplicate, and no dead letter")
    func providerRetry() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let ingress = try await IngressProcess(fleet)
        let endpoints = IngressRegistration.endpoints(ingressURL: ingress.url, accountId: "acme")
        let worker = try await fleet.start(.inbound)
        let form = [
            ("MessageSid", "SMretried000000000000000000000000001"), ("From", "+15551500002"), ("To", acme.number),
            ("Body", "hello once"),
        ]
        let signature = TwilioSignature.compute(url: endpoints.inbound, parameters: form, key: acme.twilioToken)
        try await HTTPClient.withClient { http in
            for _ in 0..<2 {
                let status = try await post(
                    http, endpoints.inbound, headers: [("X-Twilio-Signature", signature)],
                    body: Array(FormEncoding.encode(form).utf8)
                ).status
                #expect(status == 200)
                try await Task.sleep(for: .milliseconds(300))
            }
        }
        #expect(
            await eventually {
                metricSum(await worker.metrics(), "switchboard_records_total", matching: "outcome=\"duplicate\"") >= 1
            }, "\(fleet.logs)")
        #expect(
            try await fleet.ticketMessages(
                acme, try #require(try await fleet.gorgias("acme")["tickets"]?.arrayValue?.first?["id"]?.intValue)
            ).count == 1)
        #expect(try await fleet.broker.allRecords("sms.inbound.dlq").isEmpty)
        await ingress.stop()
        await fleet.shutdown()
    }

    @Test("a worker's metrics listen on METRICS_HOST: loopback only when asked")
    func metricsHost() async throws {
        let fleet = try await E2EFleet()
        var previous: WorkerProcess?
        for (host, expected) in [("127.0.0.1", "0100007F"), ("0.0.0.0", "00000000")] {
            // The second run is the first one restarted (same static member), as a changed deployment would be.
            let environment = ["METRICS_HOST": host]
            let worker: WorkerProcess
            if let previous {
                worker = try await fleet.restart(previous, environment: environment, waitReady: true)
            } else {
                worker = try await fleet.start(.status, environment: environment)
            }
            previous = worker
            // This worker's own listening sockets (by inode), not whatever else on the machine holds the port.
            // /proc/net/tcp is read to its end (beside the other suites it lists thousands of sockets), and again
            // for a few seconds in case a socket table in flux missed it once.
            var listening: [Substring] = []
            let found = await eventually(timeout: .seconds(5)) {
                let inodes = Self.socketInodes(of: worker.processIdentifier)
                let table = FileHandle(forReadingAtPath: "/proc/net/tcp")?.readDataToEndOfFile() ?? Data()
                listening = String(decoding: table, as: UTF8.self).split(separator: "\n").filter { line in
                    let fields = line.split(separator: " ")
                    return fields.count > 9 && fields[3] == "0A" && inodes.contains(String(fields[9]))
                        && fields[1].hasSuffix(String(format: ":%04X", worker.metricsPort))
                }
                return listening.contains { $0.split(separator: " ")[1].hasPrefix(expected + ":") }
            }
            #expect(found, "\(host): \(listening)")
            await worker.terminate()
        }
        await fleet.shutdown()
    }

    /// The inodes of the sockets process `pid` has open (from `/proc/<pid>/fd`).
    static func socketInodes(of pid: Int32) -> Set<String> {
        let directory = "/proc/\(pid)/fd"
        let links = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return Set(
            links.compactMap { link -> String? in
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(link)"),
                    target.hasPrefix("socket:[")
                else { return nil }
                return String(target.dropFirst("socket:[".count).dropLast())
            })
    }
}
