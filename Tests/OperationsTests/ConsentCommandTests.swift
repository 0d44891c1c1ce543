import Foundation
import Logging
import Testing
import LocalFleet
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardJSON
import TestSupport
import SwitchboardStore

/// `switchboard consent show|import|export` and `switchboard accounts set`, run as an operator would.
@Suite("Consent and settings commands", .serialized, .timeLimit(.minutes(4)))
struct ConsentCommandTests {
    let acme = E2EFleet.TestAccount(id: "acme")

    func environment(_ fleet: E2EFleet) -> [String: String] {
        fleet.environment.filter { ["KAFKA_BROKERS", "DATABASE_URL", "SWITCHBOARD_SECRET_KEY"].contains($0.key) }
    }

    func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "consent-\(UUID().uuidString).csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(
        "import checks every row and applies nothing when one is bad; show prints the history with its evidence; export writes what import reads"
    )
    func importShowExport() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        let bad = try write(
            """
            phone,state,at,source
            +15551110001,subscribed,2026-11-01T10:00:00Z,crm
            +15551110002,maybe,2026-11-01T10:00:00Z,crm
            """)
        let refused = try await CLIProcess.run(
            ["consent", "import", "--account", "acme", bad], environment: environment(fleet))
        #expect(
            refused.status == 1 && refused.errors.contains("line 3") && refused.errors.contains("maybe")
                && refused.errors.contains("nothing was imported"), "\(refused.errors)")
        #expect(
            try await fleet.withStore { try await $0.subscribers(accountId: "acme") }.isEmpty,
            "the good row was not applied either")

        let good = try write(
            """
            phone,state,at,source
            +15551110001,subscribed,2026-11-01T10:00:00Z,crm
            +15551110002,unsubscribed,2026-11-02T10:00:00Z,"paper form, store #4"
            """)
        let imported = try await CLIProcess.run(
            ["consent", "import", "--account", "acme", good], environment: environment(fleet))
        #expect(imported.status == 0 && imported.output.contains("2 applied"), "\(imported.errors)")
        try await fleet.withStore { store in
            _ = try await store.applyConsent(
                ConsentChange(
                    accountId: "acme", phone: "+15551110001", state: .unsubscribed, at: Date(),
                    source: ConsentSource.keyword(.optOut), eventId: "SMstop1", keyword: "Stop."
                ))
        }

        let shown = try await CLIProcess.run(
            ["consent", "show", "--account", "acme", "--phone", "+15551110001", "--json"],
            environment: environment(fleet))
        #expect(shown.status == 0, "\(shown.errors)")
        let report = try JSONParser.parse(Array(shown.output.utf8))
        #expect(report["state"] == "unsubscribed")
        let history = report["history"]?.arrayValue ?? []
        #expect(history.map { $0["state"]?.stringValue ?? "" } == ["subscribed", "unsubscribed"])
        #expect(
            history.first?["source"] == "import:crm" && history.last?["eventId"] == "SMstop1"
                && history.last?["keyword"] == "Stop.")
        let table = try await CLIProcess.run(
            ["consent", "show", "--account", "acme", "--phone", "+15551110001"], environment: environment(fleet))
        #expect(table.output.contains("texted STOP") && table.output.contains("SMstop1"), "\(table.output)")

        let exported = try await CLIProcess.run(
            ["consent", "export", "--account", "acme"], environment: environment(fleet))
        #expect(exported.status == 0, "\(exported.errors)")
        let lines = exported.output.split(separator: "\n").map(String.init)
        #expect(lines.first == "phone,state,at,source" && lines.count == 3)
        #expect(
            lines.contains {
                $0.hasPrefix("+15551110002,unsubscribed,") && $0.hasSuffix("\"import:paper form, store #4\"")
            }, "\(lines)")
        // What export writes, import reads back (into another account).
        try await fleet.addAccount(E2EFleet.TestAccount(id: "globex"))
        let roundTrip = try await CLIProcess.run(
            ["consent", "import", "--account", "globex", try write(exported.output)], environment: environment(fleet))
        #expect(roundTrip.status == 0, "\(roundTrip.errors)")
        #expect(
            try await fleet.withStore { try await $0.subscribers(accountId: "globex") }.map(\.state) == [
                .unsubscribed, .unsubscribed,
            ])
        let everything = try await CLIProcess.run(
            ["consent", "export", "--account", "acme", "--history"], environment: environment(fleet))
        #expect(
            everything.output.split(separator: "\n").count == 4 && everything.output.contains("SMstop1,Stop."),
            "\(everything.output)")
        await fleet.shutdown()
    }

    /// One row per setting: the option, its value, and what the stored settings then hold.
    static let settings: [(option: [String], check: @Sendable (AccountSettings) -> Bool)] = [
        (["--brand", "Acme Outdoors"], { $0.brand == "Acme Outdoors" }),
        (["--stop-closes-ticket", "false"], { $0.stopClosesTicket == false }),
        (["--closed-ticket-policy", "reopen"], { $0.closedTicketPolicy == .reopen }),
        (["--reopen-window-hours", "12"], { $0.reopenWindowHours == 12 }),
        (["--consent-replies", "switchboard"], { $0.consentReplies == .switchboard }),
        (["--help-contact", "+18005550100"], { $0.helpContact == "+18005550100" }),
        (
            ["--help-text", "Acme: Help at +18005550100. Msg&data rates may apply. Reply STOP to cancel."],
            { $0.helpText?.hasPrefix("Acme: Help") == true }
        ),
        (["--extra-stop-keywords", "ARRET, alto"], { $0.extraKeywords.optOut == ["ARRET", "alto"] }),
        (["--extra-start-keywords", "SI"], { $0.extraKeywords.optIn == ["SI"] }),
        (["--extra-help-keywords", "AIDE"], { $0.extraKeywords.help == ["AIDE"] }),
        (["--conversational-reply-hours", "24"], { $0.conversationalReplyHours == 24 }),
        (
            ["--status-callback-url", "https://ingress.example/twilio/status/acme"],
            { $0.statusCallbackURL == "https://ingress.example/twilio/status/acme" }
        ),
        (["--forward-rule-replies", "true"], { $0.forwardRuleReplies }),
    ]

    @Test(
        "accounts set changes each setting after add; invalid values are refused naming the setting and change nothing")
    func setEachSetting() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        for (option, check) in Self.settings {
            let result = try await CLIProcess.run(
                ["accounts", "set", "acme"] + option, environment: environment(fleet))
            #expect(result.status == 0, "\(option): \(result.errors)")
            let stored = try #require(try await fleet.withStore { try await $0.account(id: "acme") })
            #expect(check(stored.settings), "\(option) is stored")
        }
        let before = try await fleet.withStore { try await $0.account(id: "acme") }?.settings
        let refusals: [([String], String)] = [
            (["--help-contact", ""], "--help-contact"),  // Switchboard answers HELP (set above): a contact is required
            (["--help-text", "Call us"], "--help-text"),
            (["--extra-stop-keywords", "START"], "--extra-stop-keywords"),
            (["--extra-help-keywords", "two words here"], "--extra-help-keywords"),
            (["--reopen-window-hours", "0"], "--reopen-window-hours"),
            (["--conversational-reply-hours", "soon"], "--conversational-reply-hours"),
            (["--closed-ticket-policy", "sometimes"], "--closed-ticket-policy"),
        ]
        for (option, setting) in refusals {
            let result = try await CLIProcess.run(
                ["accounts", "set", "acme"] + option, environment: environment(fleet))
            #expect(
                result.status == 64 && result.errors.contains(setting), "\(option): \(result.status) \(result.errors)")
        }
        #expect(
            try await fleet.withStore { try await $0.account(id: "acme") }?.settings == before,
            "refused changes left the settings alone")
        let off = try await CLIProcess.run(
            ["accounts", "set", "acme", "--conversational-reply-hours", "off"], environment: environment(fleet))
        #expect(off.status == 0)
        #expect(
            try await fleet.withStore { try await $0.account(id: "acme") }?.settings.conversationalReplyHours == nil)
        let unknown = try await CLIProcess.run(
            ["accounts", "set", "nobody", "--brand", "x"], environment: environment(fleet))
        #expect(unknown.status != 0 && unknown.errors.contains("no account nobody"))
        await fleet.shutdown()
    }

    @Test("add refuses an account whose HELP replies Switchboard sends without a help contact, naming the setting")
    func addChecksHelp() async throws {
        let fleet = try await E2EFleet()
        var environment = environment(fleet)
        environment["GORGIAS_API_KEY"] = "k"
        environment["SMS_AUTH_TOKEN"] = "t"
        let base = [
            "accounts", "add", "--id", "newco", "--gorgias-subdomain", "newco", "--gorgias-email", "ops@newco.example",
            "--sms-account-sid", "AC0", "--sms-from", "+15557650009", "--skip-credential-check",
        ]
        let refused = try await CLIProcess.run(base + ["--consent-replies", "switchboard"], environment: environment)
        #expect(refused.status == 64 && refused.errors.contains("--help-contact"), "\(refused.errors)")
        #expect(try await fleet.withStore { try await $0.account(id: "newco") } == nil)
        environment["SMS_AUTH_TOKEN"] = nil
        let added = try await CLIProcess.run(
            base + [
                "--consent-replies", "switchboard", "--help-contact", "help@newco.example", "--sms-auth-token",
                "flag-token",
            ], environment: environment
        )
        #expect(added.status == 0, "\(added.errors)")
        #expect(
            added.errors.contains("warning: --sms-auth-token is visible") && added.errors.contains("$SMS_AUTH_TOKEN"),
            "\(added.errors)")
        #expect(!added.errors.contains("flag-token") && !added.output.contains("flag-token"))
        #expect(
            try await fleet.withStore { try await $0.account(id: "newco") }?.settings.consentReplies == .switchboard)
        await fleet.shutdown()
    }

    @Test("a setting changed with accounts set reaches a running worker within ACCOUNT_CACHE_TTL")
    func workersPickUpSettings() async throws {
        let fleet = try await E2EFleet()
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        let phone = "+15551110009"
        let seeded = try await fleet.seedConversation(acme, phone: phone, consent: .subscribed)
        let set = try await CLIProcess.run(
            ["accounts", "set", "acme", "--stop-closes-ticket", "false", "--extra-stop-keywords", "ARRET"],
            environment: environment(fleet))
        #expect(set.status == 0, "\(set.errors)")
        try await Task.sleep(for: .seconds(1.5))  // the fleet's ACCOUNT_CACHE_TTL is 1 s
        try await fleet.produce([
            InboundText(
                accountId: "acme", messageSid: "SMarret", from: phone, to: acme.number, body: "Arrêt",
                receivedAt: Date()
            ).record(id: "SMarret", source: "test")
        ])
        #expect(
            await eventually {
                (try? await fleet.withStore { try await $0.subscriber(accountId: "acme", phone: phone)?.state })
                    == .unsubscribed
            }, "\(fleet.logs)")
        #expect(await eventually { (try? await fleet.notes(acme, seeded.ticketId).count) == 1 })
        let ticket = try await fleet.gorgias("acme")["tickets"]?.arrayValue?.first {
            $0["id"]?.intValue == seeded.ticketId
        }
        #expect(ticket?["status"] == "open", "the account now leaves the ticket open")
        await fleet.shutdown()
    }
}
