import Crypto
import Foundation

/// `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + sorted form parameters)) (external-apis.md §3.5).
public enum TwilioSignature {
    /// The signature for a form-encoded request to `url`.
    public static func compute(url: String, parameters: [(String, String)], authToken: String) -> String {
        var text = url
        let grouped = Dictionary(grouping: parameters, by: \.0)
        for name in grouped.keys.sorted() {
            for value in Set(grouped[name]!.map(\.1)).sorted() {
                text += name + value
            }
        }
        return sign(text, authToken: authToken)
    }

    /// Checks a form-encoded request, with and without the default port in the URL (Twilio is inconsistent).
    public static func isValid(signature: String, url: String, parameters: [(String, String)], authToken: String)
        -> Bool
    {
        variants(of: url).contains {
            constantTimeEqual(compute(url: $0, parameters: parameters, authToken: authToken), signature)
        }
    }

    /// Checks a JSON-body request: the URL carries `bodySHA256`, which must match the body; the URL alone is signed.
    public static func isValid(signature: String, url: String, jsonBody: [UInt8], authToken: String) -> Bool {
        guard let components = URLComponents(string: url),
            let expected = components.queryItems?.first(where: { $0.name == "bodySHA256" })?.value,
            constantTimeEqual(SHA256.hash(data: jsonBody).map { String(format: "%02x", $0) }.joined(), expected)
        else { return false }
        return variants(of: url).contains { constantTimeEqual(sign($0, authToken: authToken), signature) }
    }

    static func sign(_ text: String, authToken: String) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Data(text.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(mac).base64EncodedString()
    }

    private static func variants(of url: String) -> [String] {
        guard var components = URLComponents(string: url), let scheme = components.scheme else { return [url] }
        let defaultPort = scheme == "https" ? 443 : 80
        if components.port == defaultPort {
            components.port = nil
            return [url, components.string ?? url]
        }
        if components.port == nil {
            components.port = defaultPort
            return [url, components.string ?? url]
        }
        return [url]
    }

    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
