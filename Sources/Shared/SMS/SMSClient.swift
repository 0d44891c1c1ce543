import Foundation

/// The Twilio Messages API for one account (external-apis.md §3), on ``HTTPClient``.
public struct SMSClient: Sendable {
    public let baseURL: String
    public let accountSid: String
    let authorization: String
    let http: HTTPClient

    public init(baseURL: String, accountSid: String, authToken: String, http: HTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.accountSid = accountSid
        self.authorization = "Basic " + Data("\(accountSid):\(authToken)".utf8).base64EncodedString()
        self.http = http
    }

    private var messagesURL: String { "\(baseURL)/2010-04-01/Accounts/\(FormEncoding.escape(accountSid))/Messages.json" }

    /// Sends an SMS (or MMS when `mediaURLs` is not empty). Throws ``SMSError`` for a refusal (21610, 21211, …).
    public func send(to: String, sender: Account.SMSSender, body: String, mediaURLs: [String] = [], statusCallback: String? = nil) async throws -> SMSMessage {
        var fields = [("To", to)]
        switch sender {
        case .number(let number): fields.append(("From", number))
        case .messagingService(let sid): fields.append(("MessagingServiceSid", sid))
        }
        if !body.isEmpty || mediaURLs.isEmpty { fields.append(("Body", body)) }
        fields += mediaURLs.map { ("MediaUrl", $0) }
        if let statusCallback { fields.append(("StatusCallback", statusCallback)) }
        let response = try await http.execute(HTTPRequest(
            method: "POST", url: messagesURL,
            headers: [("Authorization", authorization), ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: Array(FormEncoding.encode(fields).utf8), service: "sms"
        ))
        guard (200..<300).contains(response.status) else { throw SMSError.from(response) }
        return try decode(SMSMessage.self, response)
    }

    /// Messages sent to `to` on or after the day of `since` (the API filters by day; callers compare times), for
    /// reconciling a send interrupted by a crash.
    public func messages(to: String, since: Date? = nil, maximumPages: Int = 10) async throws -> [SMSMessage] {
        var query = [("To", to), ("PageSize", "100")]
        if let since { query.append(("DateSent>", String(RFC3339.format(since.addingTimeInterval(-86400)).prefix(10)))) }
        var url: String? = messagesURL + "?" + FormEncoding.encode(query)
        var messages: [SMSMessage] = []
        for _ in 0..<maximumPages {
            guard let next = url else { break }
            let response = try await http.execute(HTTPRequest(url: next, headers: [("Authorization", authorization), ("Accept", "application/json")], service: "sms"))
            guard (200..<300).contains(response.status) else { throw SMSError.from(response) }
            let page = try decode(SMSMessagePage.self, response)
            messages += page.messages
            url = page.nextPageURI.map { baseURL + $0 }
        }
        return messages
    }

    private func decode<T: Decodable>(_ type: T.Type, _ response: HTTPResponse) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(response.body))
        } catch {
            throw ProcessingFailure(.permanent, "sms.unexpected_response", "the SMS API returned an unreadable body")
        }
    }
}
