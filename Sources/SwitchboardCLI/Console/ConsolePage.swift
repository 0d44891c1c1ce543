import Foundation
import Shared

/// The console's server-rendered pages: a title, a navigation bar and tables, everything escaped.
enum ConsolePage {
    static func render(_ title: String, _ body: String) -> String {
        """
        <!doctype html><html><head><meta charset="utf-8"><title>Switchboard · \(HTMLText.escape(title))</title>
        <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;\
        padding:.2em .5em;text-align:left}nav a{margin-right:1em}</style></head><body>
        <nav><a href="/">Fleet</a><a href="/merchants">Merchants</a><a href="/dlq">Dead letters</a>\
        <a href="/trace">Trace</a></nav><h1>\(HTMLText.escape(title))</h1>\(body)</body></html>
        """
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "<p>Nothing to show.</p>" }
        let head = header.map { "<th>\(HTMLText.escape($0))</th>" }.joined()
        let body = rows.map { "<tr>" + $0.map { "<td>\(HTMLText.escape($0))</td>" }.joined() + "</tr>" }.joined()
        return "<table><tr>\(head)</tr>\(body)</table>"
    }

    static func fleet(_ partitions: [PartitionLag]) -> String {
        let totals = Dictionary(grouping: partitions, by: \.group).map { group, rows in
            [group, String(rows.reduce(0) { $0 + $1.lag })]
        }.sorted { $0[0] < $1[0] }
        return render(
            "Fleet",
            "<h2>Lag by group</h2>" + table(["GROUP", "LAG (records)"], totals) + "<h2>Partitions</h2>"
                + table(
                    ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"],
                    partitions.map {
                        [
                            $0.group, $0.topicPartition.topic, String($0.topicPartition.partition),
                            $0.committed.map(String.init) ?? "-", String($0.high), String($0.lag),
                        ]
                    }))
    }

    static func merchants(_ merchants: [AccountSummary]) -> String {
        render(
            "Merchants",
            table(
                ["ID", "STATUS", "GORGIAS", "AUTH", "SMS SENDER", "HEALTH"],
                merchants.map { [$0.id, $0.status, $0.gorgiasBaseURL, $0.gorgiasAuth, $0.sender, $0.healthSummary] }))
    }

    static func deadLetters(_ letters: [DeadLetter], topic: String?, errorClass: String?) -> String {
        let form = """
            <form method="get" action="/dlq">Topic <input name="topic" value="\(HTMLText.escape(topic ?? ""))"> \
            Error class <input name="error_class" value="\(HTMLText.escape(errorClass ?? ""))"> \
            <button>Filter</button></form><p>Redrive and acknowledge with <code>switchboard dlq redrive|ack</code>.</p>
            """
        return render(
            "Dead letters",
            form
                + table(
                    ["RECORD", "FAILED AT", "KIND", "ERROR CLASS", "ATTEMPTS", "KEY", "REASON"],
                    letters.map { letter in
                        [
                            letter.location, letter.failedAt.map { RFC3339.format($0) } ?? "-",
                            letter.kind?.rawValue ?? "-", letter.errorClass, String(letter.attempts),
                            PhoneMask.mask(letter.record.key.map { String(decoding: $0, as: UTF8.self) } ?? "-"),
                            PhoneMask.mask(letter.reason),
                        ]
                    }))
    }

    static func trace(account: String?, phone: String?, entries: [TraceEntry]?) -> String {
        let form = """
            <form method="get" action="/trace">Account <input name="account" value="\(HTMLText.escape(account ?? ""))"> \
            Phone <input name="phone" placeholder="+15551234567"> <button>Trace</button></form>
            """
        guard let entries else {
            return render("Trace", form + (account == nil ? "" : "<p>No such account, or not an E.164 phone.</p>"))
        }
        return render(
            "Trace of \(account ?? "") \(PhoneMask.mask(phone ?? ""))",
            form
                + table(
                    ["AT", "KIND", "WHAT", "REFERENCE"],
                    entries.map { [$0.at.map { RFC3339.format($0) } ?? "-", $0.kind, $0.what, $0.reference ?? "-"] }))
    }

    static let login = render(
        "Sign in",
        """
        <form method="post" action="/login"><input type="password" name="token" placeholder="console token" \
        autocomplete="off"> <button>Sign in</button></form>
        """)
}
