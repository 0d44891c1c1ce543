import SwitchboardEvents
import SwitchboardJSON

/// Each event type's own hostile records: its fields' wrong types, bad phones and dates, oversized values, and
/// valid records with hostile content (scripts, SQL, forged accounts, conflicting duplicates).
extension CorpusBuilder {
    /// Body texts that are hostile but legitimate: they must reach the helpdesk verbatim and safely escaped.
    static let scriptBody = "<script>alert('pwned')</script><img src=x onerror=alert(1)>"
    static let sqlBody = "Robert'); DROP TABLE conversations; --"
    static let controlBody = "bell\u{7} tab\t nul\u{0} emoji 📦 rtl \u{202E}txet"

    mutating func addCases(for kind: EventKind) {
        switch kind {
        case .inboundText: addInboundTextCases()
        case .helpdeskMessage: addHelpdeskMessageCases()
        case .ticketStatus: addTicketStatusCases()
        case .deliveryStatus: addDeliveryStatusCases()
        case .subscription: addSubscriptionCases()
        }
    }

    private mutating func addInboundTextCases() {
        add("a phone number without +", Self.schemaInvalid) { _, data in data["from"] = "5551234567" }
        add("a phone number with letters", Self.schemaInvalid) { _, data in data["from"] = "+1555CALLNOW" }
        add("a phone number of 16 digits", Self.schemaInvalid) { _, data in data["to"] = "+1234567890123456" }
        add("a phone number starting +0", Self.schemaInvalid) { _, data in data["from"] = "+0155512345" }
        add("the body as a number", Self.schemaInvalid) { _, data in data["body"] = 12345 }
        add("a body of 20,001 characters", Self.schemaInvalid) { _, data in
            data["body"] = .string(String(repeating: "b", count: 20_001))
        }
        add("11 media items", Self.schemaInvalid) { _, data in
            data["media"] = .array(Array(repeating: data["media"]!.arrayValue![0], count: 11))
        }
        add("a media URL that is not a URI", Self.schemaInvalid) { _, data in
            data["media"] = [["url": "not a uri", "contentType": "image/jpeg"]]
        }
        add("receivedAt on February 30", Self.schemaInvalid) { _, data in data["receivedAt"] = "2026-02-30T12:00:00Z" }
        add("a customer name of 256 characters", Self.schemaInvalid) { _, data in
            data["customer"] = ["name": .string(String(repeating: "n", count: 256))]
        }
        add("a path in the message SID", Self.schemaInvalid) { _, data in data["messageSid"] = "SM../../etc/passwd" }
        add("a script in the body", .handled) { _, data in data["body"] = .string(Self.scriptBody) }
        add("SQL in the body", .handled) { _, data in data["body"] = .string(Self.sqlBody) }
        add("control characters, emoji and bidi overrides in the body", .handled) { _, data in
            data["body"] = .string(Self.controlBody)
        }
        add("a forged account id", .handled, key: "forged-shop:corpus") { _, data in data["accountId"] = "forged-shop" }
        add("a body of only whitespace", .handled) { _, data in
            data["body"] = " \n\t "; data["media"] = nil
        }
        add("unknown extra fields", .handled) { envelope, data in
            data["carrier"] = "acme-mobile";
            envelope["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        }
        addDuplicates(changing: "body")
    }

    private mutating func addHelpdeskMessageCases() {
        add("ticket id 0", Self.schemaInvalid) { _, data in data["ticketId"] = 0 }
        add("the ticket id as a string", Self.schemaInvalid) { _, data in data["ticketId"] = "86538298" }
        add("a ticket id beyond 2^53", Self.schemaInvalid) { _, data in data["ticketId"] = .int(1 << 60) }
        add("a negative message id", Self.schemaInvalid) { _, data in data["messageId"] = -5 }
        add("a fractional message id", Self.schemaInvalid) { _, data in data["messageId"] = 2.5 }
        add("fromAgent as a string", Self.schemaInvalid) { _, data in data["fromAgent"] = "yes" }
        add("51 attachments", Self.schemaInvalid) { _, data in
            data["attachments"] = .array(Array(repeating: ["url": "https://cdn.example/a.png"], count: 51))
        }
        add("an attachment without a URL", Self.schemaInvalid) { _, data in data["attachments"] = [["name": "a.png"]] }
        add("createdAt is not a date", Self.schemaInvalid) { _, data in data["createdAt"] = "soon" }
        add("a body of 100,001 characters", Self.schemaInvalid) { _, data in
            data["bodyText"] = .string(String(repeating: "b", count: 100_001))
        }
        add("a forged account id", .handled, key: "forged-shop:corpus") { _, data in data["accountId"] = "forged-shop" }
        add("a ticket Switchboard never opened", .handled) { _, _ in }
        add("a customer's own message", .handled) { _, data in data["fromAgent"] = false }
        add("an internal note", .handled) { _, data in
            data["public"] = false; data["channel"] = "internal-note"
        }
        add("a script in the body text", .handled) { _, data in data["bodyText"] = .string(Self.scriptBody) }
        addDuplicates(changing: "bodyText")
    }

    private mutating func addTicketStatusCases() {
        add("a status outside open and closed", Self.schemaInvalid) { _, data in data["status"] = "pending" }
        add("the status in capitals", Self.schemaInvalid) { _, data in data["status"] = "CLOSED" }
        add("snoozedUntil is not a date", Self.schemaInvalid) { _, data in data["snoozedUntil"] = "tomorrow" }
        add("a fractional ticket id", Self.schemaInvalid) { _, data in data["ticketId"] = 1.5 }
        add("no updatedAt", Self.schemaInvalid) { _, data in data["updatedAt"] = nil }
        add("a forged account id", .handled, key: "forged-shop:corpus") { _, data in data["accountId"] = "forged-shop" }
        add("a ticket Switchboard never opened", .handled) { _, _ in }
        addDuplicates(changing: "status", to: "open")
    }

    private mutating func addDeliveryStatusCases() {
        add("a status Twilio never sends", Self.schemaInvalid) { _, data in data["status"] = "exploded" }
        add("a negative error code", Self.schemaInvalid) { _, data in data["errorCode"] = -1 }
        add("the error code as a string", Self.schemaInvalid) { _, data in data["errorCode"] = "30003" }
        add("a space in the message SID", Self.schemaInvalid) { _, data in data["messageSid"] = "SM 123" }
        add("a short phone number", Self.schemaInvalid) { _, data in data["to"] = "+555" }
        add("a forged account id", .handled, key: "forged-shop:corpus") { _, data in data["accountId"] = "forged-shop" }
        add("a message Switchboard never sent", .handled) { _, _ in }
        add("a status Switchboard does not track", .handled) { _, data in data["status"] = "receiving" }
        addDuplicates(changing: "status", to: "failed")
    }

    private mutating func addSubscriptionCases() {
        add("a state outside the three", Self.schemaInvalid) { _, data in data["state"] = "maybe" }
        add("a phone number without country code", Self.schemaInvalid) { _, data in data["phone"] = "12345" }
        add("an empty source", Self.schemaInvalid) { _, data in data["source"] = "" }
        add("an email of 321 characters", Self.schemaInvalid) { _, data in
            data["customer"] = ["email": .string(String(repeating: "e", count: 321))]
        }
        add("a date without a time", Self.schemaInvalid) { _, data in data["at"] = "2026-06-01" }
        add("a forged account id", .handled, key: "forged-shop:corpus") { _, data in data["accountId"] = "forged-shop" }
        add("SQL in the customer's name", .handled) { _, data in
            data["phone"] = "+15551239001"; data["customer"] = ["name": .string(Self.sqlBody)]
        }
        add("a script as the source", .handled) { _, data in
            data["phone"] = "+15551239002"; data["source"] = .string(Self.scriptBody)
        }
        addDuplicates(changing: "state", to: "unsubscribed")
    }

    /// An event, the same event again (a duplicate, skipped) and the same id with different content (kept out:
    /// the earlier version stands and the conflict is dead-lettered for a person to look at).
    private mutating func addDuplicates(changing field: String, to value: JSONValue = "changed") {
        let original = document()
        var conflicting = original.objectValue!
        var data = conflicting["data"]!.objectValue!
        data[field] = value
        conflicting["data"] = .object(data)
        add("a valid event", .handled, bytes: Array(original.serialized().utf8))
        add("the same event again", .handled, bytes: Array(original.serialized().utf8))
        add(
            "the same event id with different content", .deadLettered("event.conflicting_duplicate"),
            bytes: Array(JSONValue.object(conflicting).serialized().utf8))
    }
}
