import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardRuntime
import TestSupport
import SwitchboardKafka
import SwitchboardJSON
import SwitchboardDomain

/// Issue 9's secrets check: the fleet runs with known credential values (API keys, OAuth tokens, auth tokens, the
/// store's secret key, a Kafka SASL password, a database password), through success and through authentication
/// failures, and none of them, nor their Basic-auth encodings, appears in any log line, metric, dead letter, CLI
/// output or CLI error.
@Suite("Secrets", .serialized, .timeLimit(.minutes(5)))
struct SecretHygieneTests {
    let acme = E2EFleet.TestAccount(id: "acme")
    let oauth = E2EFleet.TestAccount(id: "oauthco", number: "+15557650002", oauth: true)
    let revoked = E2EFleet.TestAccount(id: "revoked", number: "+15557650003")
    let kafkaPassword = "kafka-sasl-password-5f3a9c"
    let databasePassword = "db-password-77e1b2"
    let newAccountKey = "gorgias-key-added-by-cli-91d4"

    /// Every secret and the encodings it travels in.
    func secrets(_ fleet: E2EFleet) -> [String] {
        var values = [fleet.secretKey, kafkaPassword, databasePassword, newAccountKey]
        for account in [acme, oauth, revoked] {
            values += [account.gorgiasKey, account.twilioToken]
            values.append(Data("ops@\(account.id).example:\(account.gorgiasKey)".utf8).base64EncodedString())
            values.append(Data("\(account.twilioSid):\(account.twilioToken)".utf8).base64EncodedString())
        }
        return values
    }

    @Test("no credential appears in worker logs, /metrics, dead letters, or any CLI output or error")
    func credentialsNeverLeak() async throws {
        let fleet = try await E2EFleet(environment: ["LOG_LEVEL": "debug", "KAFKA_SASL_PASSWORD": kafkaPassword])
        for account in [acme, oauth, revoked] { try await fleet.addAccount(account) }
        // The revoked account's keys were rotated at Gorgias and Twilio: every call it makes fails with 401.
        _ = try await fleet.sandbox.post(
            "/sandbox/gorgias/accounts", ["subdomain": "revoked", "email": "ops@revoked.example", "apiKey": "rotated"])
        _ = try await fleet.sandbox.post(
            "/sandbox/twilio/accounts", ["accountSid": .string(revoked.twilioSid), "authToken": "rotated"])
        for kind in [WorkerProcess.Kind.inbound, .outbound, .status] { try await fleet.start(kind) }

        let conversation = try await fleet.seedConversation(oauth, phone: "+15551240001", consent: .subscribed)
        let reply = try await fleet.agentReply(oauth, ticketId: conversation.ticketId, body: "on its way")
        try await fleet.produce([
            InboundText(
                accountId: acme.id, messageSid: "SMsecret1", from: "+15551240000", to: acme.number, body: "hello",
                receivedAt: Date()
            ).record(id: "SMsecret1", source: "test"),
            InboundText(
                accountId: revoked.id, messageSid: "SMsecret2", from: "+15551240002", to: revoked.number, body: "hello",
                receivedAt: Date()
            ).record(id: "SMsecret2", source: "test"),
            fleet.replyEvent(oauth, ticketId: conversation.ticketId, messageId: reply),
            // An opt-out for an account Switchboard does not know is dead-lettered with its reason.
            InboundText(
                accountId: "ghost", messageSid: "SMsecret3", from: "+15551240003", to: "+15557650008", body: "STOP",
                receivedAt: Date()
            ).record(id: "SMsecret3", source: "test"),
        ])
        let deadLetters = try await fleet.broker.read("sms.consent.dlq", atLeast: 1, timeout: .seconds(60))
        #expect(DeadLetter(deadLetters[0]).errorClass == "account.unknown_opt_out", "the dead-letter path ran")
        let inbound = try #require(fleet.workers.first { $0.kind == .inbound })
        #expect(
            await eventually { await inbound.accountHealth("revoked") == ["gorgias_credentials": 0] },
            "the refused-credentials path ran")
        #expect(await eventually { (try? await fleet.sms(oauth).count) == 1 }, "the success path ran")

        var haystacks: [(source: String, text: String)] = []
        for worker in fleet.workers {
            haystacks.append(("\(worker.kind.rawValue) log", worker.log))
            haystacks.append(("\(worker.kind.rawValue) /metrics", await worker.metrics()))
        }
        for record in deadLetters {
            haystacks.append(
                (
                    "dead letter",
                    String(decoding: record.value, as: UTF8.self)
                        + record.headers.map { "\($0.key)=\(String(decoding: $0.value ?? [], as: UTF8.self))" }.joined()
                ))
        }
        for (name, arguments, environment) in cliRuns(fleet, deadLetter: DeadLetter(deadLetters[0]).location) {
            let result = try await CLIProcess.run(arguments, environment: environment)
            haystacks.append(("`switchboard \(name)` (exit \(result.status))", result.output + result.errors))
        }
        #expect(
            haystacks.count > 12 && haystacks.allSatisfy { !$0.text.isEmpty } == true,
            "\(haystacks.filter { $0.text.isEmpty }.map(\.source))")
        for (index, secret) in secrets(fleet).enumerated() {
            for haystack in haystacks where haystack.text.contains(secret) {
                let line = haystack.text.split(separator: "\n").first { $0.contains(secret) } ?? ""
                Issue.record(
                    "secret #\(index) appears in \(haystack.source): \(line.replacingOccurrences(of: secret, with: "<secret>").prefix(400))"
                )
            }
        }
        await fleet.shutdown()
    }

    /// Operator commands, successful and failing, each given the secrets they need (or bad ones).
    func cliRuns(_ fleet: E2EFleet, deadLetter: String) -> [(String, [String], [String: String])] {
        let base = fleet.environment.filter {
            ["KAFKA_BROKERS", "RETRY_TIERS", "DATABASE_URL", "SWITCHBOARD_SECRET_KEY"].contains($0.key)
        }
        var withKafkaPassword = base
        withKafkaPassword["KAFKA_SASL_PASSWORD"] = kafkaPassword
        var newAccount = base
        newAccount["GORGIAS_API_KEY"] = newAccountKey
        newAccount["SMS_AUTH_TOKEN"] = newAccountKey
        var badDatabase = base
        badDatabase["DATABASE_URL"] =
            "postgres://switchboard:\(databasePassword)@127.0.0.1:1/switchboard?connect_timeout=2"
        var badSecretKey = base
        badSecretKey["SWITCHBOARD_SECRET_KEY"] = String(fleet.secretKey.prefix(20))
        let add = { (id: String) in
            [
                "accounts", "add", "--id", id, "--gorgias-subdomain", id, "--gorgias-email", "ops@\(id).example",
                "--sms-account-sid", "AC0000", "--sms-from", "+15557650009", "--skip-credential-check",
            ]
        }
        return [
            ("accounts list", ["accounts", "list"], base),
            ("accounts show acme", ["accounts", "show", "acme"], base),
            ("accounts show oauthco", ["accounts", "show", "oauthco"], base),
            ("accounts add", add("newshop"), newAccount),
            (
                "accounts add with the key as an option and a bad URL",
                [
                    "accounts", "add", "--id", "bad", "--gorgias-base-url", "ftp://x", "--gorgias-api-key",
                    newAccountKey, "--sms-account-sid", "AC1", "--sms-auth-token", newAccountKey,
                ], base
            ),
            (
                "accounts add with a truncated secret key", add("other"),
                badSecretKey.merging(["GORGIAS_API_KEY": newAccountKey, "SMS_AUTH_TOKEN": newAccountKey]) { $1 }
            ),
            ("accounts list with an unreachable database", ["accounts", "list"], badDatabase),
            ("dlq list", ["dlq", "list"], withKafkaPassword),
            ("dlq show", ["dlq", "show", deadLetter], withKafkaPassword),
            ("lag", ["lag"], withKafkaPassword),
        ]
    }
}
