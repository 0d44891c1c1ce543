import Foundation
import SwitchboardDomain
import SwitchboardHTTP
import SwitchboardJSON

/// What the SMS provider says about an account's sender, from one call that also proves the credentials.
public enum SenderCheck: Sendable, Equatable {
    /// A number of the account, and whether it can send SMS and MMS.
    case number(sms: Bool, mms: Bool)
    /// The account has no such number (or the provider answered about another one).
    case notOwned
    /// A messaging service: the credentials are proven; its numbers' capabilities are not read.
    case messagingService
}

extension SMSClient {
    /// Proves the credentials with one cheap read and, for a number, reads its capabilities
    /// (`GET IncomingPhoneNumbers.json?PhoneNumber=`). The answer is checked for the number itself: a filter the
    /// provider ignored must not vouch for another number. Throws ``SMSError`` when the provider refuses (401: the
    /// SID or token is wrong).
    public func check(sender: Account.SMSSender) async throws -> SenderCheck {
        let base = "\(baseURL)/2010-04-01/Accounts/\(FormEncoding.escape(accountSid))"
        let url: String
        switch sender {
        case .number(let number):
            url = base + "/IncomingPhoneNumbers.json?" + FormEncoding.encode([("PhoneNumber", number)])
        case .messagingService: url = base + "/Messages.json?PageSize=1"
        }
        let response = try await http.execute(
            APIRequest(
                url: url, headers: [("Authorization", authorization), ("Accept", "application/json")], service: "sms"))
        guard (200..<300).contains(response.status) else { throw SMSError.from(response) }
        guard case .number(let number) = sender else { return .messagingService }
        let numbers = (try? JSONParser.parse(response.body))?["incoming_phone_numbers"]?.arrayValue ?? []
        guard let owned = numbers.first(where: { $0["phone_number"]?.stringValue == number }) else { return .notOwned }
        let capabilities = owned["capabilities"]
        return .number(
            sms: capabilities?["sms"]?.boolValue ?? false, mms: capabilities?["mms"]?.boolValue ?? false)
    }
}
