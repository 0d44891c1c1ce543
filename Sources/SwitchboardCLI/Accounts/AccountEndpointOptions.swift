import ArgumentParser
import Foundation
import SwitchboardDomain

/// Where an account's helpdesk and SMS provider are, as `accounts add` and `accounts connect` take them.
struct AccountEndpointOptions: ParsableArguments {
    @Option(help: "Gorgias base URL, e.g. https://acme.gorgias.com.") var gorgiasBaseUrl: String?
    @Option(help: "Gorgias subdomain (acme → https://acme.gorgias.com).") var gorgiasSubdomain: String?
    @Option(help: "SMS API base URL.") var smsBaseUrl = "https://api.twilio.com"
    @Option(help: "SMS account SID (AC…).") var smsAccountSid: String?
    @Option(help: "Sender number (E.164).") var smsFrom: String?
    @Option(help: "Messaging service SID (MG…) instead of a number.") var smsMessagingServiceSid: String?

    /// The Gorgias base URL from exactly one of `--gorgias-base-url` and `--gorgias-subdomain`.
    func gorgiasBaseURL() throws -> String {
        let baseURL: String
        switch (gorgiasBaseUrl, gorgiasSubdomain) {
        case (let url?, nil): baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        case (nil, let subdomain?):
            guard subdomain.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw ValidationError("--gorgias-subdomain is not a valid subdomain")
            }
            baseURL = "https://\(subdomain).gorgias.com"
        default: throw ValidationError("give exactly one of --gorgias-base-url or --gorgias-subdomain")
        }
        guard URL(string: baseURL)?.scheme?.hasPrefix("http") == true else {
            throw ValidationError("--gorgias-base-url must be an http(s) URL")
        }
        return baseURL
    }

    /// The Gorgias subdomain an App Store install names: `--gorgias-subdomain`, else the base URL's
    /// `<subdomain>.gorgias.com` host, else its last path segment (the sandbox serves `…/gorgias/<subdomain>`).
    func subdomain() throws -> String {
        if let gorgiasSubdomain { return gorgiasSubdomain }
        return Self.subdomain(ofBaseURL: try gorgiasBaseURL())
    }

    /// `acme` for `https://acme.gorgias.com`, else the URL's last path segment.
    static func subdomain(ofBaseURL baseURL: String) -> String {
        let url = URL(string: baseURL)
        if let host = url?.host, host.hasSuffix(".gorgias.com") { return String(host.dropLast(".gorgias.com".count)) }
        return url?.lastPathComponent ?? ""
    }

    /// The SMS account SID, the base URL checked and the sender from exactly one of `--sms-from` and
    /// `--sms-messaging-service-sid`.
    func sms() throws -> (baseURL: String, accountSid: String, sender: Account.SMSSender) {
        guard let smsAccountSid else { throw ValidationError("--sms-account-sid is required") }
        guard URL(string: smsBaseUrl)?.scheme?.hasPrefix("http") == true else {
            throw ValidationError("--sms-base-url must be an http(s) URL")
        }
        switch (smsFrom, smsMessagingServiceSid) {
        case (let from?, nil):
            guard PhoneNumber.isE164(from) else {
                throw ValidationError("--sms-from must be an E.164 number like +15557654321")
            }
            return (smsBaseUrl, smsAccountSid, .number(from))
        case (nil, let service?): return (smsBaseUrl, smsAccountSid, .messagingService(service))
        default: throw ValidationError("give exactly one of --sms-from or --sms-messaging-service-sid")
        }
    }
}
