import Foundation
import SwitchboardJSON

/// Twilio's Messaging v1 API (`https://messaging.twilio.com/v1/…`, contracts/twilio/twilio_messaging_v1.json) for
/// the Messaging Services an account has: where each sends its numbers' incoming texts. Served at
/// `<sandbox>/twilio/messaging/v1/…` (``Account/smsMessagingBaseURL`` derives that from the account's SMS base URL).
enum TwilioMessagingSimulator {
    static func handle(
        _ method: String, _ path: [String], query: [(String, String)], account: TwilioAccount, base: String
    )
        -> SandboxReply
    {
        switch (method, path) {
        case ("GET", ["Services"]):
            let services = account.services.keys.sorted().map { service($0, account, base: base) }
            return .json(200, ["services": .array(services), "meta": meta(base + "/v1/Services", key: "services")])
        case ("GET", let parts) where parts.count == 2 && parts[0] == "Services":
            guard account.services[parts[1]] != nil else { return TwilioSimulator.notFound }
            return .json(200, service(parts[1], account, base: base))
        case ("GET", let parts) where parts.count == 3 && parts[0] == "Services" && parts[2] == "PhoneNumbers":
            guard let found = account.services[parts[1]] else { return TwilioSimulator.notFound }
            let numbers: [JSONValue] = found.numbers.sorted().map { number in
                [
                    "sid": .string(NumberCapabilities.sid(number)), "account_sid": .string(account.accountSid),
                    "service_sid": .string(parts[1]), "phone_number": .string(number), "country_code": "US",
                    "capabilities": [], "date_created": "2026-01-01T00:00:00Z", "date_updated": "2026-01-01T00:00:00Z",
                    "url": .string("\(base)/v1/Services/\(parts[1])/PhoneNumbers/\(NumberCapabilities.sid(number))"),
                ]
            }
            return .json(
                200,
                [
                    "phone_numbers": .array(numbers),
                    "meta": meta("\(base)/v1/Services/\(parts[1])/PhoneNumbers", key: "phone_numbers"),
                ])
        default:
            return TwilioSimulator.notFound
        }
    }

    private static func service(_ sid: String, _ account: TwilioAccount, base: String) -> JSONValue {
        let found = account.services[sid]
        return [
            "sid": .string(sid), "account_sid": .string(account.accountSid), "friendly_name": .string(sid),
            "date_created": "2026-01-01T00:00:00Z", "date_updated": "2026-01-01T00:00:00Z",
            "inbound_request_url": found?.inboundRequestURL.map { .string($0) } ?? nil, "inbound_method": "POST",
            "fallback_url": nil, "fallback_method": "POST", "status_callback": nil,
            "use_inbound_webhook_on_number": .bool(found?.useInboundWebhookOnNumber ?? false),
            "sticky_sender": true, "mms_converter": true, "smart_encoding": true, "scan_message_content": "inherit",
            "fallback_to_long_code": false, "area_code_geomatch": true, "synchronous_validation": true,
            "validity_period": 14400, "usecase": "customer_care", "us_app_to_person_registered": false,
            "url": .string("\(base)/v1/Services/\(sid)"),
            "links": ["phone_numbers": .string("\(base)/v1/Services/\(sid)/PhoneNumbers")],
        ]
    }

    private static func meta(_ url: String, key: String) -> JSONValue {
        [
            "page": 0, "page_size": 50, "first_page_url": .string(url + "?PageSize=50&Page=0"),
            "previous_page_url": nil, "next_page_url": nil, "key": .string(key),
            "url": .string(url + "?PageSize=50&Page=0"),
        ]
    }
}
