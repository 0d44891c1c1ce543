import SwitchboardBase
import SwitchboardJSON

/// The read-only web page: per account, the tickets with their threaded messages and notes (what an agent sees)
/// and the SMS sent (what a customer receives). Every value is HTML-escaped.
enum SandboxPage {
    static func escape(_ text: String) -> String {
        HTMLText.escape(text, lineBreaks: false)
    }

    static func page(_ title: String, _ body: String) -> String {
        """
        <!doctype html><html><head><meta charset="utf-8"><title>\(escape(title))</title>
        <meta http-equiv="refresh" content="5">
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
        .ticket{border:1px solid #ccc;border-radius:6px;margin:1em 0;padding:.5em 1em}
        .msg{margin:.4em 0;padding:.4em .6em;border-radius:4px;background:#f3f6fb}
        .agent{background:#e8f5e9}.note{background:#fff8e1;border-left:4px solid #f9a825}
        .meta{color:#666;font-size:.85em}.closed{color:#888}table{border-collapse:collapse}
        td,th{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
        </style></head><body><p><a href="/">Switchboard sandbox</a></p>\(body)</body></html>
        """
    }

    static func index(_ state: SandboxState) -> String {
        let gorgias = state.gorgias.keys.sorted().map { subdomain in
            let account = state.gorgias[subdomain]!
            return
                "<li><a href=\"/view/gorgias/\(escape(subdomain))\">\(escape(subdomain))</a> — \(account.tickets.count) tickets, \(account.customers.count) customers, \(account.calls) API calls</li>"
        }.joined()
        let twilio = state.twilio.keys.sorted().map { sid in
            "<li><a href=\"/view/twilio/\(escape(sid))\">\(escape(sid))</a> — \(state.twilio[sid]!.messages.count) messages</li>"
        }.joined()
        return page(
            "Switchboard sandbox",
            "<h1>Sandbox</h1><h2>Gorgias accounts</h2><ul>\(gorgias)</ul><h2>SMS accounts</h2><ul>\(twilio)</ul>")
    }

    static func gorgias(_ account: GorgiasAccount) -> String {
        let tickets = account.tickets.reversed().map { ticket -> String in
            let status = ticket["status"]?.stringValue ?? "?"
            let snooze = ticket["snooze_datetime"]?.stringValue.map { " (snoozed until \(escape($0)))" } ?? ""
            let messages = (ticket["messages"]?.arrayValue ?? []).map { message -> String in
                let note = message["channel"]?.stringValue == "internal-note"
                let agent = message["from_agent"]?.boolValue == true
                let kind = note ? "note" : (agent ? "agent" : "")
                let who =
                    note ? "Internal note" : (message["sender"]?["name"]?.stringValue ?? (agent ? "Agent" : "Customer"))
                let attachments = (message["attachments"]?.arrayValue ?? []).compactMap { $0["url"]?.stringValue }
                    .map { "<div class=\"meta\">📎 \(escape($0))</div>" }.joined()
                return
                    "<div class=\"msg \(kind)\"><div class=\"meta\">\(escape(who)) · \(escape(message["channel"]?.stringValue ?? "")) · \(escape(message["created_datetime"]?.stringValue ?? ""))</div>\(escape(message["body_text"]?.stringValue ?? ""))\(attachments)</div>"
            }.joined()
            let customer =
                ticket["customer"]?["name"]?.stringValue ?? ticket["customer"]?["email"]?.stringValue
                ?? "customer \(ticket["customer"]?["id"]?.intValue ?? 0)"
            return
                "<div class=\"ticket \(escape(status))\"><h3>#\(ticket["id"]?.intValue ?? 0) \(escape(ticket["subject"]?.stringValue ?? "")) — \(escape(status))\(snooze)</h3><div class=\"meta\">\(escape(customer)) · external id \(escape(ticket["external_id"]?.stringValue ?? "-"))</div>\(messages)</div>"
        }.joined()
        return page(
            "Gorgias \(account.subdomain)",
            "<h1>Gorgias: \(escape(account.subdomain))</h1><p>\(account.calls) API calls</p>\(tickets)")
    }

    static func twilio(_ account: TwilioAccount) -> String {
        let rows = account.messages.reversed().map { stored -> String in
            let message = stored.message
            let error = message["error_code"]?.intValue.map { " (\($0))" } ?? ""
            return
                "<tr><td>\(escape(message["date_created"]?.stringValue ?? ""))</td><td>\(escape(message["direction"]?.stringValue ?? ""))</td><td>\(escape(message["from"]?.stringValue ?? message["messaging_service_sid"]?.stringValue ?? ""))</td><td>\(escape(message["to"]?.stringValue ?? ""))</td><td>\(escape(message["body"]?.stringValue ?? ""))\(stored.mediaUrls.map { "<div class=\"meta\">📎 \(escape($0))</div>" }.joined())</td><td>\(escape(message["status"]?.stringValue ?? ""))\(error)</td><td>\(escape(message["num_segments"]?.stringValue ?? ""))</td></tr>"
        }.joined()
        return page(
            "SMS \(account.accountSid)",
            "<h1>SMS: \(escape(account.accountSid))</h1><table><tr><th>When</th><th>Direction</th><th>From</th><th>To</th><th>Body</th><th>Status</th><th>Segments</th></tr>\(rows)</table>"
        )
    }
}
