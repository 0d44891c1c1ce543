import Foundation
import SwitchboardDomain
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardRuntime
import OperatorKit
import SwitchboardBase

/// The console's server-rendered pages: a title, a navigation bar and tables. Every page is ``HTML``, so whatever
/// it shows (a dead letter's reason, a query's echo) is escaped by construction; none carries script.
enum ConsolePage {
    /// The one style sheet, allowed by its digest in the Content-Security-Policy (``WebPage/headers(styles:)``).
    static let style =
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        + "padding:.2em .5em;text-align:left}nav a,nav form{margin-right:1em;display:inline}"

    /// A page; `csrf` (a signed-in session's token) adds the sign-out button.
    static func render(_ title: String, _ body: HTML, csrf: String? = nil) -> HTML {
        let signOut: HTML =
            csrf.map {
                """
                <form method="post" action="/logout"><input type="hidden" name="csrf" value="\($0)">\
                <button>Sign out</button></form>
                """
            } ?? ""
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>Switchboard · \(title)</title>
            <style>\(HTML(trusted: style))</style></head><body>
            <nav><a href="/">Fleet</a><a href="/merchants">Merchants</a><a href="/dlq">Dead letters</a>\
            <a href="/trace">Trace</a>\(signOut)</nav><h1>\(title)</h1>\(body)</body></html>
            """
    }

    /// A table of escaped cells; `links` makes each row's first cell a link to its path (already encoded).
    static func table(_ header: [String], _ rows: [[String]], links: [HTML]? = nil) -> HTML {
        guard !rows.isEmpty else { return "<p>Nothing to show.</p>" }
        let head = header.map { "<th>\($0)</th>" as HTML }.joined()
        let body = rows.enumerated().map { index, row -> HTML in
            let cells = row.enumerated().map { column, cell -> HTML in
                guard column == 0, let link = links?[index] else { return "<td>\(cell)</td>" }
                return "<td><a href=\"\(link)\">\(cell)</a></td>"
            }
            return "<tr>\(cells.joined())</tr>"
        }.joined()
        return "<table><tr>\(head)</tr>\(body)</table>"
    }

    static func fleet(
        _ partitions: [ConsoleSources.FleetPartition],
        groups: [(group: String, description: Result<GroupDescription?, any Error>)], csrf: String?
    ) -> HTML {
        let members = groups.flatMap { group, description -> [[String]] in
            switch description {
            case .failure(let error): return [[group, "not described: \(error)", "", "", ""]]
            case .success(nil): return [[group, "unknown to the brokers", "", "", ""]]
            case .success(let description?) where description.members.isEmpty:
                return [[group, description.state, "no members", "", ""]]
            case .success(let description?):
                return description.members.map { member in
                    [group, description.state, member.clientId, member.host, String(member.partitions.count)]
                }
            }
        }
        let totals = Dictionary(grouping: partitions, by: \.lag.group).map { group, rows in
            [group, String(rows.reduce(0) { $0 + $1.lag.lag }), age(rows.compactMap(\.oldestAge).max())]
        }.sorted { $0[0] < $1[0] }
        return render(
            "Fleet",
            "<h2>Lag by group</h2>" + table(["GROUP", "LAG (records)", "OLDEST WAITING"], totals)
                + "<h2>Members</h2>" + table(["GROUP", "STATE", "MEMBER", "HOST", "PARTITIONS"], members)
                + "<h2>Partitions</h2>"
                + table(
                    ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "OLDEST WAITING"],
                    partitions.map {
                        [
                            $0.lag.group, $0.lag.topicPartition.topic, String($0.lag.topicPartition.partition),
                            $0.lag.committed.map(String.init) ?? "-", String($0.lag.high), String($0.lag.lag),
                            age($0.oldestAge),
                        ]
                    }), csrf: csrf)
    }

    /// Lag in time: how long the oldest unconsumed record has waited.
    static func age(_ age: Duration?) -> String {
        guard let seconds = age?.seconds else { return "-" }
        return seconds < 120
            ? "\(Int(seconds)) s" : seconds < 7200 ? "\(Int(seconds / 60)) min" : "\(Int(seconds / 3600)) h"
    }

    static func merchants(_ merchants: [AccountSummary], csrf: String?) -> HTML {
        render(
            "Merchants",
            table(
                ["ID", "STATUS", "GORGIAS", "AUTH", "SMS SENDER", "HEALTH"],
                merchants.map { [$0.id, $0.status, $0.gorgiasBaseURL, $0.gorgiasAuth, $0.sender, $0.healthSummary] }),
            csrf: csrf)
    }

    /// The dead letters a filter selects, the filter's form, and (signed in with a session) the redrive form.
    static func deadLetters(_ letters: [DeadLetter], query: DeadLetterQuery, csrf: String?) -> HTML {
        func input(_ label: String, _ name: String, _ value: String?, _ placeholder: String) -> HTML {
            "\(label) <input name=\"\(name)\" value=\"\(value ?? "")\" placeholder=\"\(placeholder)\"> "
        }
        let filter: HTML =
            "<form method=\"get\" action=\"/dlq\">" + input("Topic", "topic", query.topic, "sms.inbound")
            + input("Since", "since", query.since, "2h or RFC 3339")
            + input("Error class", "error_class", query.errorClass, "gorgias.")
            + input("Account", "account", query.account, "acme") + "<button>Filter</button></form>"
        let carried = query.fields.map { "<input type=\"hidden\" name=\"\($0.name)\" value=\"\($0.value)\">" as HTML }
            .joined()
        let redrive: HTML =
            csrf.map {
                """
                <h2>Redrive</h2><form method="post" action="/dlq/redrive">\(carried)\
                <input type="hidden" name="csrf" value="\($0)">Send the \(letters.count) record(s) \
                listed back to their topics at <input name="rate" value="10" size="4"> per second \
                <label><input type="checkbox" name="dry_run" value="1" checked> dry run</label> \
                <button id="redrive">Redrive</button></form>
                """
            } ?? "<p>Sign in at /login to redrive from here (a bearer token reads only).</p>"
        return render(
            "Dead letters",
            filter
                + table(
                    ["RECORD", "FAILED AT", "KIND", "ERROR CLASS", "ATTEMPTS", "REDRIVES", "KEY", "REASON"],
                    letters.map { letter in
                        [
                            letter.location, letter.failedAt.map { RFC3339.format($0) } ?? "-",
                            letter.kind?.rawValue ?? "-", letter.errorClass, String(letter.attempts),
                            String(letter.redriveCount),
                            PhoneMask.mask(letter.keyText ?? "-"),
                            PhoneMask.mask(letter.reason),
                        ]
                    },
                    links: letters.map { "/dlq/record?at=\(query: $0.location)" })
                + (letters.isEmpty ? "" : redrive), csrf: csrf)
    }

    /// One dead letter: where it came from, why it failed, its headers (the value is not shown: it holds a message).
    static func deadLetter(_ letter: DeadLetter, csrf: String?) -> HTML {
        let facts = [
            ["Source", letter.origin],
            ["Key", PhoneMask.mask(letter.keyText ?? "-")],
            ["Error class", letter.errorClass], ["Reason", PhoneMask.mask(letter.reason)],
            ["Value", "\(letter.record.value.count) bytes (switchboard dlq show prints it)"],
        ]
        return render(
            "Dead letter \(letter.location)",
            table(["", ""], facts) + "<h2>Headers</h2>"
                + table(
                    ["HEADER", "VALUE"],
                    letter.record.headers.map { [$0.key, PhoneMask.mask($0.stringValue ?? "(binary)")] }),
            csrf: csrf)
    }

    static func redriven(_ outcome: DeadLetterRedrive.Outcome, csrf: String?) -> HTML {
        let verb = outcome.dryRun ? "Would redrive" : "Redrove"
        var body: HTML =
            "<p id=\"outcome\">\(verb) \(outcome.redriven.count) record(s).</p>"
            + table(["RECORD"], outcome.redriven.map { [$0] })
        if !outcome.leftForRedriveCount.isEmpty {
            body +=
                "<p>Left alone, already redriven \(DeadLetterRedrive.defaultMaxRedrives) times: \(outcome.leftForRedriveCount.count).</p>"
                + table(["RECORD"], outcome.leftForRedriveCount.map { [$0] })
        }
        return render(
            outcome.dryRun ? "Redrive (dry run)" : "Redriven", body + "<p><a href=\"/dlq\">Back</a></p>", csrf: csrf)
    }

    /// A request the console cannot serve as asked (a bad filter): the reason, in words.
    static func refused(_ reason: String) -> HTML {
        render("Not understood", "<p>\(reason)</p>")
    }

    static func trace(account: String?, phone: String?, entries: [TraceEntry]?, csrf: String?) -> HTML {
        let form: HTML = """
            <form method="get" action="/trace">Account <input name="account" value="\(account ?? "")"> \
            Phone <input name="phone" placeholder="+15551234567"> <button>Trace</button></form>
            """
        guard let entries else {
            return render(
                "Trace", form + (account == nil ? "" : "<p>No such account, or not an E.164 phone.</p>"), csrf: csrf)
        }
        return render(
            "Trace of \(account ?? "") \(PhoneMask.mask(phone ?? ""))",
            form
                + table(
                    ["AT", "KIND", "WHAT", "REFERENCE"],
                    entries.map { [$0.at.map { RFC3339.format($0) } ?? "-", $0.kind, $0.what, $0.reference ?? "-"] }),
            csrf: csrf)
    }

    /// The sign-in form; `problem` says why the last attempt failed.
    static func login(problem: String? = nil) -> HTML {
        render(
            "Sign in",
            (problem.map { "<p>\($0)</p>" as HTML } ?? "")
                + """
                <form method="post" action="/login"><input type="password" name="token" placeholder="console token" \
                autocomplete="off"> <button>Sign in</button></form>
                """)
    }
}
