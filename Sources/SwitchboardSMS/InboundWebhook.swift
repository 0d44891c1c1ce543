import Foundation
import SwitchboardDomain
import SwitchboardHTTP
import SwitchboardJSON

/// One of the account's numbers as the provider lists it (`IncomingPhoneNumbers`).
public struct IncomingNumber: Sendable, Equatable {
    /// `PN…`.
    public var sid: String
    public var phoneNumber: String
    /// Where the provider posts the number's incoming messages ("" when unset).
    public var smsURL: String
    /// A TwiML App (`AP…`) handling the number's texts: when set, the provider ignores ``smsURL``.
    public var smsApplicationSid: String? = nil
}

extension SMSClient {
    private var numbersURL: String {
        "\(baseURL)/2010-04-01/Accounts/\(FormEncoding.escape(accountSid))/IncomingPhoneNumbers"
    }

    /// The account's number `number`, or nil when the account has no such number (checked in the answer itself: a
    /// filter the provider ignored must not hand back another number).
    public func incomingNumber(_ number: String) async throws -> IncomingNumber? {
        let response = try await http.execute(
            APIRequest(
                url: numbersURL + ".json?" + FormEncoding.encode([("PhoneNumber", number)]),
                headers: [("Authorization", authorization), ("Accept", "application/json")], service: "sms"))
        guard (200..<300).contains(response.status) else { throw SMSError.from(response) }
        let numbers = (try? JSONParser.parse(response.body))?["incoming_phone_numbers"]?.arrayValue ?? []
        return numbers.compactMap(Self.incomingNumber).first { $0.phoneNumber == number }
    }

    /// Points number `sid`'s incoming messages at `url` (`SmsUrl`, POST); returns the number as the provider now
    /// lists it, and throws when the answer does not show `url` (the change did not take).
    @discardableResult
    public func setInboundWebhook(numberSid sid: String, url: String) async throws -> IncomingNumber {
        let response = try await http.execute(
            APIRequest(
                method: "POST", url: "\(numbersURL)/\(FormEncoding.escape(sid)).json",
                headers: [
                    ("Authorization", authorization), ("Content-Type", "application/x-www-form-urlencoded"),
                    ("Accept", "application/json"),
                ],
                body: Array(FormEncoding.encode([("SmsUrl", url), ("SmsMethod", "POST")]).utf8), service: "sms"))
        guard (200..<300).contains(response.status) else { throw SMSError.from(response) }
        guard let number = (try? JSONParser.parse(response.body)).flatMap(Self.incomingNumber), number.smsURL == url
        else {
            throw SMSError(status: response.status, code: nil, message: "the number's SmsUrl did not change")
        }
        return number
    }

    private static func incomingNumber(_ object: JSONValue) -> IncomingNumber? {
        guard let sid = object["sid"]?.stringValue, let phone = object["phone_number"]?.stringValue else { return nil }
        return IncomingNumber(
            sid: sid, phoneNumber: phone, smsURL: object["sms_url"]?.stringValue ?? "",
            smsApplicationSid: object["sms_application_sid"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
    }
}
