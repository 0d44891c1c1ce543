import Foundation
import SwitchboardDomain
import SwitchboardHTTP
import SwitchboardJSON

/// Where the provider really posts a sender's incoming texts. Twilio's documents (contracts/twilio/): a number in a
/// Messaging Service goes to the service's `inbound_request_url` unless the service sets
/// `use_inbound_webhook_on_number`; a number with an `sms_application_sid` goes to that TwiML App's `sms_url`; only
/// otherwise to the number's own `sms_url`. So a number's `SmsUrl` pointing at Switchboard proves nothing by itself.
public struct InboundRoute: Sendable, Equatable {
    public enum Via: Sendable, Equatable {
        case number
        case application(String)
        case messagingService(String)
        /// A Messaging Service that defers to each of its numbers' own webhooks.
        case eachNumber(service: String)
    }

    public var via: Via
    /// The URL incoming texts are posted to; nil when none is set.
    public var url: String?

    /// Where the texts go, in words, for connect's output and the health check.
    public var description: String {
        let target = url.map { $0.isEmpty ? "nowhere" : $0 } ?? "nowhere"
        switch via {
        case .number: return "the number posts incoming texts to \(target)"
        case .application(let sid): return "TwiML App \(sid) handles the number's texts and posts them to \(target)"
        case .messagingService(let sid):
            return "the number is in Messaging Service \(sid), which posts its incoming texts to \(target)"
        case .eachNumber(let sid):
            return "Messaging Service \(sid) leaves incoming texts to each number's own webhook"
        }
    }

    /// Whether texts reach `expected`.
    public func reaches(_ expected: String) -> Bool { url == expected }
}

extension SMSClient {
    /// Twilio's Messaging v1 API for this account: `https://messaging.twilio.com` beside `https://api.twilio.com`;
    /// for any other base URL (the sandbox, a proxy), `<base>/messaging`.
    public var messagingBaseURL: String {
        guard let url = URL(string: baseURL), url.host?.lowercased() == "api.twilio.com" else {
            return baseURL + "/messaging"
        }
        return "https://messaging.twilio.com"
    }

    /// How many Messaging Services are read when looking for a number's (one page; a number in a later service is
    /// reported as routed by the number).
    static let servicesRead = 20

    /// Where `sender`'s incoming texts go: one read for a messaging service; for a number, the number, the account's
    /// Messaging Services and their numbers (up to ``servicesRead``), and its TwiML App if it has one. Nil for a
    /// number the account does not have.
    public func inboundRoute(for sender: Account.SMSSender) async throws -> InboundRoute? {
        switch sender {
        case .messagingService(let sid):
            guard let service = try await messagingService(sid) else { return nil }
            return service.deferToNumber
                ? InboundRoute(via: .eachNumber(service: sid), url: nil)
                : InboundRoute(via: .messagingService(sid), url: service.inboundURL)
        case .number(let number):
            guard let found = try await incomingNumber(number) else { return nil }
            for sid in try await messagingServiceSids() {
                guard try await messagingServiceNumbers(sid).contains(number),
                    let service = try await messagingService(sid), !service.deferToNumber
                else { continue }
                return InboundRoute(via: .messagingService(sid), url: service.inboundURL)
            }
            if let app = found.smsApplicationSid {
                return InboundRoute(via: .application(app), url: try await applicationSMSURL(app))
            }
            return InboundRoute(via: .number, url: found.smsURL.isEmpty ? nil : found.smsURL)
        }
    }

    private func messagingService(_ sid: String) async throws -> (inboundURL: String?, deferToNumber: Bool)? {
        guard let service = try await readJSON(messagingBaseURL + "/v1/Services/" + FormEncoding.escape(sid))
        else { return nil }
        return (
            service["inbound_request_url"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
            service["use_inbound_webhook_on_number"]?.boolValue ?? false
        )
    }

    private func messagingServiceSids() async throws -> [String] {
        let list = try await readJSON(messagingBaseURL + "/v1/Services?PageSize=\(Self.servicesRead)")
        return (list?["services"]?.arrayValue ?? []).compactMap { $0["sid"]?.stringValue }
    }

    private func messagingServiceNumbers(_ sid: String) async throws -> Set<String> {
        let list = try await readJSON(
            messagingBaseURL + "/v1/Services/" + FormEncoding.escape(sid) + "/PhoneNumbers?PageSize=50")
        return Set((list?["phone_numbers"]?.arrayValue ?? []).compactMap { $0["phone_number"]?.stringValue })
    }

    private func applicationSMSURL(_ sid: String) async throws -> String? {
        let app = try await readJSON(
            "\(baseURL)/2010-04-01/Accounts/\(FormEncoding.escape(accountSid))/Applications/\(FormEncoding.escape(sid)).json"
        )
        return app?["sms_url"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A GET of the provider's JSON; nil for 404 (no such resource), ``SMSError`` for another refusal.
    private func readJSON(_ url: String) async throws -> JSONValue? {
        let response = try await http.execute(
            APIRequest(
                url: url, headers: [("Authorization", authorization), ("Accept", "application/json")], service: "sms"))
        if response.status == 404 { return nil }
        guard (200..<300).contains(response.status) else { throw SMSError.from(response) }
        return try? JSONParser.parse(response.body)
    }
}
