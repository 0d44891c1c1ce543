import ArgumentParser
import Foundation
import SwitchboardDomain
import SwitchboardJSON
import SwitchboardStore
import OperatorKit

/// `switchboard consent show|import|export`: the consent evidence of an account's subscribers.
struct ConsentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract:
            "Show, import and export SMS consent (every change is kept as evidence: time, source, event, keyword).",
        subcommands: [ShowConsentCommand.self, ImportConsentCommand.self, ExportConsentCommand.self]
    )
}

/// `switchboard consent show --account A --phone P`.
struct ShowConsentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "A phone's consent and the history of every change.")

    @Option(help: "Account id.") var account: String
    @Option(help: "Phone number (E.164).") var phone: String
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var store: StoreOptions

    struct Report: Codable {
        struct Change: Codable {
            var state: String
            var at: Date
            var recordedAt: Date
            var source: String
            var sourceInWords: String
            var eventId: String?
            var keyword: String?
        }

        var account: String
        var phone: String
        var state: String?
        var since: Date?
        var history: [Change]
    }

    func run() async throws {
        guard PhoneNumber.isE164(phone) else {
            throw ValidationError("--phone must be an E.164 number like +15551234567")
        }
        let environment = try CLIEnvironment.load()
        let (subscriber, history) = try await Store.withStore(
            try store.location(environment), logger: CLIEnvironment.logger
        ) { store in
            (
                try await store.subscriber(accountId: account, phone: phone),
                try await store.consentHistory(accountId: account, phone: phone)
            )
        }
        let report = Report(
            account: account, phone: phone, state: subscriber?.state.rawValue, since: subscriber?.changedAt,
            history: history.map {
                .init(
                    state: $0.state.rawValue, at: $0.at, recordedAt: $0.recordedAt, source: $0.source,
                    sourceInWords: ConsentSource.describe($0.source),
                    eventId: $0.eventId, keyword: $0.keyword)
            }
        )
        if json { return try JSONOutput.print(report) }
        StandardOutput.line(
            "\(phone) with \(account): \(subscriber.map { "\($0.state.rawValue) since \(RFC3339.format($0.changedAt))" } ?? "no consent on record")"
        )
        guard !history.isEmpty else { return }
        StandardOutput.line(
            TextTable.render(
                ["AT", "STATE", "SOURCE", "KEYWORD", "EVENT", "RECORDED"],
                report.history.map {
                    [
                        RFC3339.format($0.at), $0.state, $0.sourceInWords, $0.keyword ?? "-", $0.eventId ?? "-",
                        RFC3339.format($0.recordedAt),
                    ]
                }
            ))
    }
}

/// `switchboard consent import --account A FILE.csv`: all rows or none.
struct ImportConsentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract:
            "Import consent from a CSV file (phone,state,at,source); every row is checked first and nothing is applied if any is bad.",
        discussion: """
            The first line is the header phone,state,at,source. state is subscribed, pending or unsubscribed; at is an \
            RFC 3339 time (when the consent was given or revoked); source says where it came from (kept as \
            import:<source>). A row older than the consent on record changes nothing, as for any consent change, and \
            no row re-subscribes a customer who opted out themselves (only their own START does).
            """
    )

    @Option(help: "Account id.") var account: String
    @Argument(help: "CSV file.") var file: String
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError.failed("cannot read \(file)")
        }
        let changes = try Self.changes(account: account, csv: String(decoding: data, as: UTF8.self))
        let result = try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) {
            store in
            guard try await store.account(id: account) != nil else { throw CLIError.notFound("no account \(account)") }
            return try await store.importConsent(changes)
        }
        StandardOutput.line(
            "imported \(changes.count) rows for \(account): \(result.applied) applied, \(result.stale) older than the consent on record, \(result.refused) refused (the customer opted out themselves; only their START re-subscribes them)"
        )
    }

    static let header = ["phone", "state", "at", "source"]

    /// Every row as a consent change, or the first bad row named by its line number.
    static func changes(account: String, csv: String) throws -> [ConsentChange] {
        let rows = CSVText.parse(csv)
        guard let first = rows.first, first.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) == header
        else {
            throw CLIError.failed("line 1: the header must be \(header.joined(separator: ",")); nothing was imported")
        }
        var changes: [ConsentChange] = []
        for (index, row) in rows.dropFirst().enumerated() where !(row.count == 1 && row[0].isEmpty) {
            let line = index + 2
            func bad(_ reason: String) -> CLIError { .failed("line \(line): \(reason); nothing was imported") }
            guard row.count == 4 else { throw bad("expected 4 fields (phone,state,at,source), found \(row.count)") }
            let fields = row.map { $0.trimmingCharacters(in: .whitespaces) }
            guard PhoneNumber.isE164(fields[0]) else {
                throw bad("phone \"\(fields[0].prefix(32))\" is not an E.164 number")
            }
            guard let state = ConsentState(rawValue: fields[1]) else {
                throw bad("state \"\(fields[1].prefix(32))\" is not subscribed, pending or unsubscribed")
            }
            guard let at = RFC3339.parse(fields[2]) else {
                throw bad("at \"\(fields[2].prefix(40))\" is not an RFC 3339 time")
            }
            guard at <= Date().addingTimeInterval(300) else { throw bad("at \(fields[2]) is in the future") }
            guard !fields[3].isEmpty, fields[3].count <= 128 else { throw bad("source must be 1 to 128 characters") }
            changes.append(
                ConsentChange(
                    accountId: account, phone: fields[0], state: state, at: at,
                    source: ConsentSource.imported(fields[3])))
        }
        return changes
    }
}

/// `switchboard consent export --account A`: CSV on stdout, the format `import` reads (or the whole history).
struct ExportConsentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Write an account's consent as CSV (phone,state,at,source, as import reads it; --history: every change with its evidence)."
    )

    @Option(help: "Account id.") var account: String
    @Flag(help: "Every change with its event id, keyword and recording time, not only the current state.") var history =
        false
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let environment = try CLIEnvironment.load()
        try await Store.withStore(try store.location(environment), logger: CLIEnvironment.logger) { store in
            guard try await store.account(id: account) != nil else { throw CLIError.notFound("no account \(account)") }
            if history {
                StandardOutput.line(
                    CSVText.line(["phone", "state", "at", "source", "event_id", "keyword", "recorded_at"]))
                for change in try await store.consentHistory(accountId: account) {
                    StandardOutput.line(
                        CSVText.line([
                            change.phone, change.state.rawValue, RFC3339.format(change.at, fractional: true),
                            change.source, change.eventId ?? "",
                            change.keyword ?? "", RFC3339.format(change.recordedAt, fractional: true),
                        ]))
                }
            } else {
                StandardOutput.line(CSVText.line(ImportConsentCommand.header))
                for subscriber in try await store.subscribers(accountId: account) {
                    StandardOutput.line(
                        CSVText.line([
                            subscriber.phone, subscriber.state.rawValue,
                            RFC3339.format(subscriber.changedAt, fractional: true), subscriber.source,
                        ]))
                }
            }
        }
    }
}
