import Foundation
import SwitchboardDomain
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardSMS

/// The Twilio Messages API for one account (contracts/twilio/twilio_api_v2010.json), over the sandbox state.
enum TwilioSimulator {
    static let apiVersion = "2010-04-01"

    /// Twilio's legacy error body: `{"code", "message", "more_info", "status"}`.
    static func error(_ status: Int, _ code: Int, _ message: String) -> SandboxReply {
        .json(
            status,
            [
                "code": .int(Int64(code)), "message": .string(message),
                "more_info": .string("https://www.twilio.com/docs/errors/\(code)"), "status": .int(Int64(status)),
            ])
    }

    static func newSid(_ prefix: String) -> String {
        prefix + (0..<32).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
    }

    static func handle(
        _ method: String, _ path: [String], query: [(String, String)], form: [(String, String)],
        account: inout TwilioAccount, state: inout SandboxState, callbackDelayMs: Int, cdn: String
    ) -> (SandboxReply, [StatusStep]) {
        switch (method, path) {
        case ("POST", ["Messages.json"]): return send(form, &account, state: state, callbackDelayMs: callbackDelayMs)
        case ("GET", ["Messages.json"]): return (list(query, account), [])
        case ("GET", ["IncomingPhoneNumbers.json"]): return (incomingNumbers(query, account), [])
        case ("POST", let parts) where parts.count == 2 && parts[0] == "IncomingPhoneNumbers":
            return (updateNumber(String(parts[1].dropLast(5)), form, &account), [])
        case ("GET", let parts) where parts.count == 2 && parts[0] == "Applications" && parts[1].hasSuffix(".json"):
            let sid = String(parts[1].dropLast(5))
            guard let url = account.applications[sid] else { return (notFound, []) }
            return (.json(200, applicationObject(sid, smsURL: url, account: account)), [])
        case ("GET", let parts) where parts.count == 4 && parts[0] == "Messages" && parts[2] == "Media":
            // The media's content: Twilio redirects to a CDN host that serves it without authentication
            // (contracts/twilio/extras.json), so the sandbox does too, to another host name for itself.
            guard account.media[parts[3]] != nil else { return (notFound, []) }
            return (SandboxReply(status: 307, headers: [("Location", "\(cdn)/twilio-cdn/\(parts[3])")]), [])
        case ("GET", let parts) where parts.count == 2 && parts[0] == "Messages" && parts[1].hasSuffix(".json"):
            let sid = String(parts[1].dropLast(5))
            guard let stored = account.messages.first(where: { $0.sid == sid }) else { return (notFound, []) }
            return (.json(200, stored.message), [])
        default:
            return (notFound, [])
        }
    }

    static var notFound: SandboxReply { error(404, 20404, "The requested resource was not found") }

    /// `GET IncomingPhoneNumbers.json[?PhoneNumber=]`: the account's numbers with their capabilities.
    static func incomingNumbers(_ query: [(String, String)], _ account: TwilioAccount) -> SandboxReply {
        let wanted = query.last { $0.0 == "PhoneNumber" }?.1
        let numbers = account.numbers.keys.sorted().filter { wanted == nil || $0 == wanted }.map { number in
            numberObject(number, account.numbers[number]!, account: account)
        }
        let uri = "/\(apiVersion)/Accounts/\(account.accountSid)/IncomingPhoneNumbers.json"
        return .json(
            200,
            [
                "incoming_phone_numbers": .array(numbers), "page": 0, "page_size": 50, "start": 0,
                "end": .int(Int64(max(numbers.count - 1, 0))), "uri": .string(uri),
                "first_page_uri": .string(uri + "?PageSize=50&Page=0"), "next_page_uri": nil, "previous_page_uri": nil,
            ])
    }

    /// `POST IncomingPhoneNumbers/{PN…}.json` with `SmsUrl` (and `SmsMethod`, `SmsApplicationSid`): points the number's
    /// incoming messages.
    static func updateNumber(_ sid: String, _ form: [(String, String)], _ account: inout TwilioAccount) -> SandboxReply
    {
        guard let number = account.numbers.keys.first(where: { NumberCapabilities.sid($0) == sid }) else {
            return notFound
        }
        if let url = form.last(where: { $0.0 == "SmsUrl" })?.1 { account.numbers[number]?.smsURL = url }
        if let app = form.last(where: { $0.0 == "SmsApplicationSid" })?.1 {
            account.numbers[number]?.smsApplicationSid = app.isEmpty ? nil : app
        }
        return .json(200, numberObject(number, account.numbers[number]!, account: account))
    }

    private static func numberObject(_ number: String, _ details: NumberCapabilities, account: TwilioAccount)
        -> JSONValue
    {
        let sid = NumberCapabilities.sid(number)
        return [
            "sid": .string(sid), "phone_number": .string(number), "friendly_name": .string(number),
            "account_sid": .string(account.accountSid), "sms_url": details.smsURL.map { .string($0) } ?? "",
            "sms_method": "POST", "sms_application_sid": details.smsApplicationSid.map { .string($0) } ?? nil,
            "capabilities": ["sms": .bool(details.sms), "mms": .bool(details.mms), "voice": true, "fax": false],
            "api_version": .string(apiVersion),
            "uri": .string("/\(apiVersion)/Accounts/\(account.accountSid)/IncomingPhoneNumbers/\(sid).json"),
        ]
    }

    private static func applicationObject(_ sid: String, smsURL: String, account: TwilioAccount) -> JSONValue {
        [
            "sid": .string(sid), "account_sid": .string(account.accountSid), "friendly_name": .string(sid),
            "sms_url": .string(smsURL), "sms_method": "POST", "api_version": .string(apiVersion),
            "uri": .string("/\(apiVersion)/Accounts/\(account.accountSid)/Applications/\(sid).json"),
        ]
    }

    /// A status change to apply (and call back) after a delay.
    struct StatusStep: Sendable {
        var accountSid: String
        var messageSid: String
        var status: String
        var errorCode: Int?
        var delayMs: Int
    }

    static func send(
        _ form: [(String, String)], _ account: inout TwilioAccount, state: SandboxState, callbackDelayMs: Int
    ) -> (SandboxReply, [StatusStep]) {
        func field(_ name: String) -> String? { form.last { $0.0 == name }?.1 }
        let media = form.filter { $0.0 == "MediaUrl" }.map(\.1)
        guard let to = field("To"), PhoneNumber.isE164(to) else {
            return (error(400, 21211, "The 'To' number is not a valid phone number."), [])
        }
        let from = field("From")
        let service = field("MessagingServiceSid")
        guard from != nil || service != nil else {
            return (error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message"), [])
        }
        if let service, service.range(of: "^MG[0-9a-fA-F]{32}$", options: .regularExpression) == nil {
            return (error(400, 21701, "The Messaging Service Sid is invalid"), [])
        }
        let body = field("Body") ?? ""
        guard !body.isEmpty || !media.isEmpty else { return (error(400, 21602, "Message body is required."), []) }
        guard body.count <= SMSSegments.maximumBodyCharacters else {
            return (error(400, 21617, "The concatenated message body exceeds the 1600 character limit."), [])
        }
        guard media.count <= 10 else { return (error(400, 21623, "Number of media files exceeds allowed limit."), []) }
        if Double.random(in: 0..<1) < state.faults.smsConcurrencyRefusalRate {
            return (error(429, 20429, "Too Many Requests"), [])
        }
        let sender = service ?? from!
        if account.isBlocked(sender: sender, recipient: to) {
            return (error(400, 21610, "Attempt to send to unsubscribed recipient"), [])
        }
        let now = Date()
        // The sender's queue: the message waits its turn (`queued`, no `date_sent`), then its statuses follow.
        let earliest = now.addingTimeInterval(Double(state.faults.smsMinimumQueuedMs) / 1000)
        var dispatch = earliest
        if state.faults.smsPerSecondPerSender > 0 {
            dispatch = max(earliest, account.nextDispatch[sender] ?? earliest)
            account.nextDispatch[sender] = dispatch.addingTimeInterval(1 / state.faults.smsPerSecondPerSender)
        }
        let queuedMs = max(0, Int(dispatch.timeIntervalSince(now) * 1000))
        let sid = newSid(media.isEmpty ? "SM" : "MM")
        let segments = SMSSegments.count(body).segments
        let message: JSONValue = [
            "sid": .string(sid), "account_sid": .string(account.accountSid),
            "messaging_service_sid": service.map { .string($0) } ?? nil,
            "from": from.map { .string($0) } ?? nil, "to": .string(to), "body": .string(body),
            "status": service == nil ? "queued" : "accepted", "direction": "outbound-api",
            "num_segments": .string(service == nil ? String(segments) : "0"), "num_media": .string(String(media.count)),
            "error_code": nil, "error_message": nil, "price": nil, "price_unit": nil,
            "api_version": .string(apiVersion),
            "date_created": .string(HTTPDate.format(now)), "date_sent": nil,
            "date_updated": .string(HTTPDate.format(now)),
            "uri": .string("/\(apiVersion)/Accounts/\(account.accountSid)/Messages/\(sid).json"),
            "subresource_uris": [
                "media": .string("/\(apiVersion)/Accounts/\(account.accountSid)/Messages/\(sid)/Media.json")
            ],
        ]
        account.messages.append(
            TwilioAccount.StoredSMS(
                message: message, mediaUrls: media, statusCallback: field("StatusCallback"), createdAt: now))
        func step(_ status: String, _ code: Int?, _ after: Int) -> StatusStep {
            StatusStep(
                accountSid: account.accountSid, messageSid: sid, status: status, errorCode: code,
                delayMs: queuedMs + callbackDelayMs * after)
        }
        var steps: [StatusStep] =
            service == nil
            ? []
            : [
                StatusStep(
                    accountSid: account.accountSid, messageSid: sid, status: "queued", errorCode: nil,
                    delayMs: callbackDelayMs / 2)
            ]
        steps.append(step("sending", nil, 1))
        if let code = state.undeliverable[to] {
            steps.append(step(code < 30000 ? "failed" : "undelivered", code, 2))
        } else if state.partiallyDelivered?.contains(to) == true {
            steps.append(step("sent", nil, 2))
            steps.append(step("partially_delivered", nil, 3))
        } else {
            steps.append(step("sent", nil, 2))
            steps.append(step("delivered", nil, 3))
        }
        return (.json(201, message), steps)
    }

    /// Newest first, inbound messages included (as Twilio's list does), filtered by `To`, `From` and the day filters
    /// `DateSent`, `DateSent>`/`DateSent>=`, `DateSent<`. As Twilio's, the `DateSent` filters match `date_sent`, which a
    /// message that is still `queued`, `accepted` or `scheduled` does not have yet: such a message is in no `DateSent`
    /// list. Pages after the first are reached through `next_page_uri`, which carries a `PageToken`; a later page asked
    /// for without one is refused.
    static func list(_ query: [(String, String)], _ account: TwilioAccount) -> SandboxReply {
        func field(_ name: String) -> String? { query.last { $0.0 == name }?.1 }
        var messages = account.messages
        if let to = field("To") { messages = messages.filter { $0.message["to"]?.stringValue == to } }
        if let from = field("From") { messages = messages.filter { $0.message["from"]?.stringValue == from } }
        func day(_ stored: TwilioAccount.StoredSMS) -> String? {
            stored.message["date_sent"]?.stringValue.flatMap(HTTPDate.parse).map {
                String(RFC3339.format($0).prefix(10))
            }
        }
        if let after = field("DateSent>") ?? field("DateSent>=") {
            messages = messages.filter { day($0).map { $0 >= after } ?? false }
        }
        if let before = field("DateSent<") ?? field("DateSent<=") {
            messages = messages.filter { day($0).map { $0 <= before } ?? false }
        }
        if let exact = field("DateSent") { messages = messages.filter { day($0) == exact } }
        messages.reverse()
        let pageSize = min(max(Int(field("PageSize") ?? "50") ?? 50, 1), 1000)
        let page = max(Int(field("Page") ?? "0") ?? 0, 0)
        if page > 0 && field("PageToken") != pageToken(page) {
            return error(400, 20006, "Invalid PageToken: pages after the first are reached through next_page_uri")
        }
        let slice = Array(messages.dropFirst(page * pageSize).prefix(pageSize))
        let base = "/\(apiVersion)/Accounts/\(account.accountSid)/Messages.json"
        let carried = query.filter { !["Page", "PageSize", "PageToken"].contains($0.0) }
        func pageURI(_ number: Int) -> String {
            var parameters = carried + [("PageSize", String(pageSize)), ("Page", String(number))]
            if number > 0 { parameters.append(("PageToken", pageToken(number))) }
            return base + "?" + FormEncoding.encode(parameters)
        }
        let hasNext = (page + 1) * pageSize < messages.count
        return .json(
            200,
            [
                "messages": .array(slice.map(\.message)), "page": .int(Int64(page)), "page_size": .int(Int64(pageSize)),
                "start": .int(Int64(page * pageSize)), "end": .int(Int64(page * pageSize + max(slice.count - 1, 0))),
                "uri": .string(pageURI(page)), "first_page_uri": .string(pageURI(0)),
                "next_page_uri": hasNext ? .string(pageURI(page + 1)) : nil,
                "previous_page_uri": page > 0 ? .string(pageURI(page - 1)) : nil,
            ])
    }

    /// The opaque token Twilio puts in a page's URI (`PA…`), derived from the page number.
    static func pageToken(_ page: Int) -> String { "PA" + String(format: "%032x", page) }

    /// Applies a status step to the stored message and builds its signed status callback, if one was requested.
    static func apply(_ step: StatusStep, _ account: inout TwilioAccount) -> WebhookJob? {
        guard let index = account.messages.firstIndex(where: { $0.sid == step.messageSid }),
            case .object(var message) = account.messages[index].message
        else {
            return nil
        }
        message["status"] = .string(step.status)
        message["date_updated"] = .string(HTTPDate.format(Date()))
        if step.status == "sent" { message["date_sent"] = .string(HTTPDate.format(Date())) }
        if let code = step.errorCode {
            message["error_code"] = .int(Int64(code))
            message["error_message"] = .string(SMSErrorCodes.explain(code))
        }
        account.messages[index].message = .object(message)
        guard let url = account.messages[index].statusCallback else { return nil }
        var parameters = [
            ("MessageSid", step.messageSid), ("SmsSid", step.messageSid), ("MessageStatus", step.status),
            ("SmsStatus", step.status),
            ("AccountSid", account.accountSid), ("To", message["to"]?.stringValue ?? ""), ("ApiVersion", apiVersion),
        ]
        if let from = message["from"]?.stringValue { parameters.append(("From", from)) }
        if let service = message["messaging_service_sid"]?.stringValue {
            parameters.append(("MessagingServiceSid", service))
        }
        if let code = step.errorCode { parameters.append(("ErrorCode", String(code))) }
        if ["delivered", "undelivered"].contains(step.status) {
            parameters.append(
                ("RawDlrDoneDate", String(RFC3339.format(Date()).filter(\.isNumber).dropFirst(2).prefix(10))))
        }
        return signedWebhook(url: url, parameters: parameters, account: account, kind: .statusCallback)
    }

    /// Twilio's default keywords (contracts/consent-keywords.json): whole body, case-insensitive.
    static func keyword(_ body: String) -> String? {
        let word = body.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        if ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"].contains(word) {
            return "STOP"
        }
        if ["START", "YES", "UNSTOP"].contains(word) { return "START" }
        if ["HELP", "INFO"].contains(word) { return "HELP" }
        return nil
    }

    /// Twilio's default opt-out handling answers STOP, START and HELP itself (contracts/consent-keywords.json); the HELP text
    /// is Twilio's generic one (its exact wording is not documented).
    static func autoReply(_ keyword: String) -> String? {
        switch keyword {
        case "STOP":
            "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe."
        case "START":
            "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
        case "HELP": "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
        default: nil
        }
    }

    /// An inbound medium: at an outside URL, or a file the sandbox holds and serves behind the account's Basic auth
    /// (as Twilio does with media authentication on).
    enum InboundMedia {
        case url(String, contentType: String)
        case hosted(StoredFile)
    }

    /// A customer texting `to`, one of the account's numbers: records the inbound message, applies Twilio's keyword
    /// engine when the account's default opt-out handling is on (blocklist, auto-reply), and builds the signed webhook
    /// to where Twilio routes the number's texts (``TwilioAccount/inboundURL(for:)``); nil when nobody is told.
    /// `OptOutType` is sent only for a number in a Messaging Service with Advanced Opt-Out, as Twilio documents.
    static func inbound(
        from: String, to: String, body: String, media inboundMedia: [InboundMedia], baseURL: String,
        account: inout TwilioAccount
    ) -> (sid: String, keyword: String?, job: WebhookJob?) {
        let sid = newSid(inboundMedia.isEmpty ? "SM" : "MM")
        let media = inboundMedia.map { item -> (url: String, contentType: String) in
            switch item {
            case .url(let url, let contentType): return (url, contentType)
            case .hosted(let file):
                let mediaSid = newSid("ME")
                account.media[mediaSid] = file
                return (
                    "\(baseURL)/twilio/\(apiVersion)/Accounts/\(account.accountSid)/Messages/\(sid)/Media/\(mediaSid)",
                    file.contentType
                )
            }
        }
        let service = account.service(of: to)
        let advanced = service.flatMap { account.services[$0] }?.advancedOptOut ?? false
        let keyword = account.defaultOptOutHandling || advanced ? keyword(body) : nil
        // Twilio sends no HELP answer to a recipient who opted out.
        let optedOut = account.isBlocked(sender: to, recipient: from)
        // A number of a messaging service blocks the whole service.
        let pair = "\(service ?? to)|\(from)"
        switch keyword {
        case "STOP": account.blocklist.insert(pair)
        case "START": account.blocklist.remove(pair)
        default: break
        }
        let now = Date()
        let message: JSONValue = [
            "sid": .string(sid), "account_sid": .string(account.accountSid), "from": .string(from), "to": .string(to),
            "body": .string(body), "messaging_service_sid": service.map { .string($0) } ?? nil,
            "status": "received", "direction": "inbound",
            "num_segments": .string(String(SMSSegments.count(body).segments)),
            "num_media": .string(String(media.count)), "date_created": .string(HTTPDate.format(now)),
            "date_updated": .string(HTTPDate.format(now)), "date_sent": .string(HTTPDate.format(now)),
            "api_version": .string(apiVersion), "error_code": nil, "error_message": nil, "price": nil,
            "uri": .string("/\(apiVersion)/Accounts/\(account.accountSid)/Messages/\(sid).json"),
        ]
        account.messages.append(
            TwilioAccount.StoredSMS(message: message, mediaUrls: media.map(\.url), statusCallback: nil, createdAt: now))
        if let reply = keyword.flatMap(autoReply), !(keyword == "HELP" && optedOut) {
            let replySid = newSid("SM")
            let replyMessage: JSONValue = [
                "sid": .string(replySid), "account_sid": .string(account.accountSid), "from": .string(to),
                "to": .string(from), "body": .string(reply), "status": "delivered", "direction": "outbound-reply",
                "num_segments": "1", "num_media": "0", "date_created": .string(HTTPDate.format(now)),
                "date_updated": .string(HTTPDate.format(now)), "date_sent": .string(HTTPDate.format(now)),
                "api_version": .string(apiVersion), "error_code": nil, "error_message": nil, "price": nil,
                "uri": .string("/\(apiVersion)/Accounts/\(account.accountSid)/Messages/\(replySid).json"),
            ]
            account.messages.append(
                TwilioAccount.StoredSMS(message: replyMessage, mediaUrls: [], statusCallback: nil, createdAt: now))
        }
        guard let url = account.inboundURL(for: to) else { return (sid, keyword, nil) }
        var parameters = [
            ("MessageSid", sid), ("SmsSid", sid), ("SmsMessageSid", sid), ("AccountSid", account.accountSid),
            ("From", from), ("To", to),
            ("Body", body), ("NumMedia", String(media.count)),
            ("NumSegments", String(SMSSegments.count(body).segments)),
            ("SmsStatus", "received"), ("ApiVersion", apiVersion),
        ]
        if let service { parameters.append(("MessagingServiceSid", service)) }
        for (index, item) in media.enumerated() {
            parameters.append(("MediaUrl\(index)", item.url))
            parameters.append(("MediaContentType\(index)", item.contentType))
        }
        if advanced, let keyword { parameters.append(("OptOutType", keyword)) }
        return (
            sid, keyword, signedWebhook(url: url, parameters: parameters, account: account, kind: .inbound)
        )
    }

    /// A webhook signed as Twilio signs it for this account: with the auth token and HMAC-SHA1, or, when a Webhook
    /// Rule's shared key is set, with that key and HMAC-SHA256, announced in `X-Twilio-Webhooks-Signature-Settings`.
    static func signedWebhook(
        url: String, parameters: [(String, String)], account: TwilioAccount, kind: WebhookJob.Kind
    )
        -> WebhookJob
    {
        var headers = [("Content-Type", "application/x-www-form-urlencoded")]
        if let key = account.webhookKey {
            let signature = TwilioSignature.compute(
                url: url, parameters: parameters, key: key.secret, algorithm: .hmacSHA256)
            headers += [
                ("X-Twilio-Signature", signature),
                ("X-Twilio-Webhooks-Signature-Settings", "key=\(key.id),algorithm=HMAC_SHA256"),
            ]
        } else {
            headers.append(
                (
                    "X-Twilio-Signature",
                    TwilioSignature.compute(url: url, parameters: parameters, key: account.authToken)
                ))
        }
        return WebhookJob(kind: kind, url: url, headers: headers, body: Array(FormEncoding.encode(parameters).utf8))
    }
}
