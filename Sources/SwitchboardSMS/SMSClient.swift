import Foundation
import SwitchboardBase
import SwitchboardDomain
import SwitchboardHTTP

/// The Twilio Messages API for one account (contracts/twilio/twilio_api_v2010.json), on ``HTTPClient``.
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

    private var messagesURL: String {
        "\(baseURL)/2010-04-01/Accounts/\(FormEncoding.escape(accountSid))/Messages.json"
    }

    /// Sends an SMS (or MMS when `mediaURLs` is not empty). Throws ``SMSError`` for a refusal (21610, 21211, …).
    public func send(
        to: String, sender: Account.SMSSender, body: String, mediaURLs: [String] = [], statusCallback: String? = nil
    ) async throws -> SMSMessage {
        var fields = [("To", to)]
        switch sender {
        case .number(let number): fields.append(("From", number))
        case .messagingService(let sid): fields.append(("MessagingServiceSid", sid))
        }
        if !body.isEmpty || mediaURLs.isEmpty { fields.append(("Body", body)) }
        fields += mediaURLs.map { ("MediaUrl", $0) }
        if let statusCallback { fields.append(("StatusCallback", statusCallback)) }
        let response = try await http.execute(
            APIRequest(
                method: "POST", url: messagesURL,
                headers: [
                    ("Authorization", authorization), ("Content-Type", "application/x-www-form-urlencoded"),
                    ("Accept", "application/json"),
                ],
                body: Array(FormEncoding.encode(fields).utf8), service: "sms"
            ))
        guard (200..<300).contains(response.status) else { throw SMSError.from(response) }
        return try decode(SMSMessage.self, response)
    }

    /// Outbound messages to `to` (from `sender` when it is a number), newest first, created at or after `since`:
    /// pages are read until one reaches back before `since`. No `DateSent` filter: it matches `date_sent`, which a
    /// message still `queued`, `accepted` or `scheduled` does not have, and a busy sender's messages stay queued for
    /// seconds to hours (contracts/twilio/twilio_api_v2010.json, Message.date_sent). For reconciling a send whose answer was lost.
    public func messages(to: String, sender: Account.SMSSender? = nil, since: Date, maximumPages: Int = 20) async throws
        -> [SMSMessage]
    {
        var query = [("To", to), ("PageSize", "50")]
        if case .number(let number)? = sender { query.append(("From", number)) }
        var url: String? = messagesURL + "?" + FormEncoding.encode(query)
        var messages: [SMSMessage] = []
        // `date_created` has a resolution of one second.
        let cutoff = since.addingTimeInterval(-1)
        for _ in 0..<maximumPages {
            guard let next = url else { break }
            let response = try await http.execute(
                APIRequest(
                    url: next, headers: [("Authorization", authorization), ("Accept", "application/json")],
                    service: "sms"))
            guard (200..<300).contains(response.status) else { throw SMSError.from(response) }
            let page = try decode(SMSMessagePage.self, response)
            let recent = page.messages.filter { message in
                message.dateCreated.flatMap(HTTPDate.parse).map { $0 >= cutoff } ?? true
            }
            messages += recent
            if recent.count < page.messages.count { break }
            url = page.nextPageURI.map { baseURL + $0 }
        }
        return messages.filter { $0.direction?.hasPrefix("outbound") ?? true }
    }

    /// Downloads a media file of this account's messages, refusing more than `maximumBytes`. Returns the bytes and
    /// the declared type. Only URLs on this account's API host are fetched, with its Basic auth (Twilio requires it
    /// for media); the answer may redirect (307) to a CDN host that serves the bytes without auth
    /// (contracts/twilio/extras.json, "media"): the redirect is followed, at most three times, and the credentials go
    /// only to the API's own origin, never to the CDN. A redirect to an address a webhook's media URL could not name
    /// (``MediaAddress/isAcceptableRedirect(_:providerBaseURL:)``) is refused.
    public func media(_ url: String, maximumBytes: Int) async throws -> (bytes: [UInt8], contentType: String?) {
        guard isOwnMedia(url) else {
            throw ProcessingFailure.permanent(
                "sms.media_foreign_host", "a media URL outside the SMS provider's API host is not fetched")
        }
        var current = url
        for _ in 0...3 {
            let headers = Redirect.sameOrigin(current, baseURL) ? [("Authorization", authorization)] : []
            let response = try await http.execute(
                APIRequest(
                    url: current, headers: headers, timeout: .seconds(60), service: "sms",
                    maximumResponseBytes: maximumBytes
                ))
            if Redirect.isRedirect(response.status) {
                guard let next = response.header("Location").flatMap({ Redirect.target($0, from: current) }),
                    MediaAddress.isAcceptableRedirect(next, providerBaseURL: baseURL)
                else {
                    throw ProcessingFailure.permanent(
                        "sms.media_redirect_refused", "the media URL redirects to an address that is not fetched")
                }
                current = next
                continue
            }
            guard (200..<300).contains(response.status) else { throw SMSError.from(response) }
            return (response.body, response.header("Content-Type"))
        }
        throw ProcessingFailure.permanent("sms.media_redirect_loop", "the media URL redirects more than three times")
    }

    /// Whether `url` is on this account's API host (so its credentials may be sent with it).
    public func isOwnMedia(_ url: String) -> Bool {
        guard let target = URL(string: url), let own = URL(string: baseURL) else { return false }
        return target.scheme == own.scheme && target.host == own.host && target.port == own.port
    }

    private func decode<T: Decodable>(_ type: T.Type, _ response: APIResponse) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(response.body))
        } catch {
            throw ProcessingFailure(.permanent, "sms.unexpected_response", "the SMS API returned an unreadable body")
        }
    }
}
