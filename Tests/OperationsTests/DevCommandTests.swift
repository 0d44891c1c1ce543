import Foundation
import Testing
import LocalFleet
import SwitchboardJSON
import SwitchboardRuntime
import TestSupport

/// `switchboard-dev fleet`, the README's main command, run as a newcomer runs it.
@Suite("switchboard-dev fleet", .serialized, .timeLimit(.minutes(5)))
struct DevCommandTests {
    @Test(
        "plays the scenario through the real fleet; the summary matches the sandbox; --keep-running serves the CLI and kcat; Ctrl-C stops it cleanly"
    )
    func scenario() async throws {
        let dev = try CLIProcess(["fleet", "--keep-running", "--json", "--quiet"], executable: .devTools)
        #expect(
            await eventually(timeout: .seconds(180)) { dev.output.contains("\n") || !dev.process.isRunning },
            "\(dev.errors)")
        let summary = try JSONParser.parse(Array(try #require(dev.output.split(separator: "\n").first).utf8))
        #expect(summary["counts"] == summary["expected"], "\(summary.serialized())")

        // Recount from the sandbox itself.
        let sandbox = try #require(summary["sandboxURL"]?.stringValue)
        let gorgias = try JSONParser.parse(Array(try await httpGet(sandbox + "/sandbox/gorgias/demo").body.utf8))
        // The demo merchant was connected through Gorgias OAuth (consent, code exchange), not with a pasted key.
        #expect(
            gorgias["oauth"]?["exchanges"]?.intValue == 1 && gorgias["auth"] == "oauth", "\(gorgias["oauth"] ?? nil)")
        let tickets = gorgias["tickets"]?.arrayValue ?? []
        let messages = tickets.flatMap { $0["messages"]?.arrayValue ?? [] }
        #expect(tickets.count == 9 && summary["counts"]?["tickets"]?.intValue == 9)
        #expect(
            Int64(messages.filter { $0["channel"] == "internal-note" }.count)
                == summary["counts"]?["internalNotes"]?.intValue)
        #expect(
            !messages.contains { ["STOP", "HELP"].contains($0["body_text"]?.stringValue ?? "") },
            "consent keywords never reach the helpdesk")
        let state = try JSONParser.parse(Array(try await httpGet(sandbox + "/sandbox/state").body.utf8))
        let twilio = try #require(state["twilio"]?.objectValue?.values.first)
        let sent = (twilio["messages"]?.arrayValue ?? []).filter { $0["direction"] == "outbound-api" }
        #expect(Int64(sent.count) == summary["counts"]?["smsSent"]?.intValue && sent.count == 4)
        #expect(!sent.contains { $0["to"] == "+15550101003" }, "nothing is sent to a customer after STOP")
        let hana = tickets.first { $0["subject"]?.stringValue?.contains("+15550101008") == true }
        #expect(
            hana?["status"] == "closed"
                && hana?["messages"]?.arrayValue?.contains { $0["channel"] == "internal-note" } == true,
            "the STOP sent while Gorgias was down was noted and closed once it came back")
        let ivy = tickets.first { $0["subject"]?.stringValue?.contains("+15550101009") == true }
        #expect(
            ivy?["status"] == "open"
                && ivy?["messages"]?.arrayValue?.contains { $0["channel"] == "internal-note" } == true,
            "Ivy's question after her earlier STOP opened a ticket that stays open, noted as opted out")

        // The environment file points the CLI and kcat at the running fleet; its folder (store, logs) is private.
        let environmentFile = try #require(summary["environmentFile"]?.stringValue)
        let folder = try FileManager.default.attributesOfItem(
            atPath: (environmentFile as NSString).deletingLastPathComponent)
        #expect((folder[.posixPermissions] as? Int).map { $0 & 0o077 } == 0, "the dev folder is readable by others")
        let environment = try Self.environment(from: environmentFile)
        let lag = try await CLIProcess.run(["lag", "--json"], environment: environment)
        #expect(lag.status == 0, "\(lag.errors)")
        let rows = try JSONParser.parse(Array(lag.output.utf8)).arrayValue ?? []
        let groups = Set(rows.compactMap { $0["group"]?.stringValue })
        #expect(groups.isSuperset(of: FleetRoster.all.map(\.group)))
        let stats = try await CLIProcess.run(["conversations", "stats", "--json"], environment: environment)
        let conversations = try JSONParser.parse(Array(stats.output.utf8))["conversations"]?.intValue
        #expect(
            stats.status == 0 && conversations == 8, "eight customers texted about something; HELP alone opens none")
        let kcat = try await Self.kcatList(brokers: try #require(environment["KAFKA_BROKERS"]))
        #expect(kcat.contains("topic \"sms.inbound\"") && kcat.contains("topic \"sms.inbound.dlq\""))

        let metricsURLs = summary["metricsURLs"]?.objectValue?.values.compactMap(\.stringValue) ?? []
        #expect(metricsURLs.count == 3)
        dev.send(SIGINT)
        #expect(await dev.wait(timeout: .seconds(60)) == 0, "\(dev.errors)")
        for url in metricsURLs {
            #expect((try? await httpGet(url)) == nil, "worker behind \(url) still answers after Ctrl-C")
        }
    }

    /// `export KEY=value` lines.
    static func environment(from path: String) throws -> [String: String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return Dictionary(
            uniqueKeysWithValues: text.split(separator: "\n").compactMap { line in
                let assignment = line.hasPrefix("export ") ? line.dropFirst(7) : line[...]
                guard let equals = assignment.firstIndex(of: "=") else { return nil }
                return (String(assignment[..<equals]), String(assignment[assignment.index(after: equals)...]))
            })
    }

    static func kcatList(brokers: String) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        process.arguments = ["-L", "-b", brokers, "-m", "10"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
