import Crypto
import Foundation

/// `X-Twilio-Signature` (contracts/twilio/signature-vectors.json): base64 of an HMAC over the URL Twilio called
/// followed by the sorted form parameters. By default the HMAC is SHA-1 keyed with the account's auth token; a
/// Webhook Rule with a shared key signs with HMAC-SHA256 and that key instead, and says so in
/// `X-Twilio-Webhooks-Signature-Settings: key=<key id>,algorithm=HMAC_SHA256` (public beta).
public enum TwilioSignature {
    public enum Algorithm: String, Sendable, CaseIterable {
        case hmacSHA1 = "HMAC_SHA1"
        case hmacSHA256 = "HMAC_SHA256"
    }

    /// The signing a request announces: nil header means the auth token and HMAC-SHA1; a header naming an algorithm
    /// Switchboard does not know gives nil (the request is refused).
    public struct Settings: Sendable, Equatable {
        /// The shared key's id (`key=`), when the header names one.
        public var keyId: String?
        public var algorithm: Algorithm

        public static let authToken = Settings(keyId: nil, algorithm: .hmacSHA1)

        /// Reads `X-Twilio-Webhooks-Signature-Settings`.
        public init?(header: String?) {
            guard let header else {
                self = .authToken
                return
            }
            var fields: [String: String] = [:]
            for part in header.split(separator: ",") {
                let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2 { fields[pair[0].lowercased()] = pair[1] }
            }
            guard let algorithm = fields["algorithm"].flatMap({ Algorithm(rawValue: $0.uppercased()) }) else {
                return nil
            }
            self.init(keyId: fields["key"].flatMap { $0.isEmpty ? nil : $0 }, algorithm: algorithm)
        }

        public init(keyId: String?, algorithm: Algorithm) {
            self.keyId = keyId
            self.algorithm = algorithm
        }
    }

    /// The signature for a form-encoded request to `url`.
    public static func compute(
        url: String, parameters: [(String, String)], key: String, algorithm: Algorithm = .hmacSHA1
    ) -> String {
        var text = url
        let grouped = Dictionary(grouping: parameters, by: \.0)
        for name in grouped.keys.sorted() {
            for value in Set(grouped[name]!.map(\.1)).sorted() {
                text += name + value
            }
        }
        return sign(text, key: key, algorithm: algorithm)
    }

    /// Checks a form-encoded request against the URL with its port removed and with the scheme's default port added,
    /// as Twilio's own validators do (Twilio signs inconsistently).
    public static func isValid(
        signature: String, url: String, parameters: [(String, String)], key: String,
        algorithm: Algorithm = .hmacSHA1
    ) -> Bool {
        variants(of: url).contains {
            constantTimeEqual(compute(url: $0, parameters: parameters, key: key, algorithm: algorithm), signature)
        }
    }

    /// Checks a JSON-body request: the URL carries `bodySHA256`, which must match the body; the URL alone is signed.
    public static func isValid(
        signature: String, url: String, jsonBody: [UInt8], key: String, algorithm: Algorithm = .hmacSHA1
    ) -> Bool {
        guard let components = URLComponents(string: url),
            let expected = components.queryItems?.first(where: { $0.name == "bodySHA256" })?.value,
            constantTimeEqual(SHA256.hash(data: jsonBody).map { String(format: "%02x", $0) }.joined(), expected)
        else { return false }
        return variants(of: url).contains {
            constantTimeEqual(sign($0, key: key, algorithm: algorithm), signature)
        }
    }

    static func sign(_ text: String, key: String, algorithm: Algorithm) -> String {
        let secret = SymmetricKey(data: Data(key.utf8))
        switch algorithm {
        case .hmacSHA1:
            return Data(HMAC<Insecure.SHA1>.authenticationCode(for: Data(text.utf8), using: secret))
                .base64EncodedString()
        case .hmacSHA256:
            return Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: secret)).base64EncodedString()
        }
    }

    /// The URL without any port, and with the scheme's default port when it names none (twilio-python's
    /// `remove_port` and `add_port`).
    static func variants(of url: String) -> [String] {
        guard var components = URLComponents(string: url), let scheme = components.scheme else { return [url] }
        var variants = [url]
        let written = components.port
        components.port = nil
        if let bare = components.string { variants.append(bare) }
        if written == nil {
            components.port = scheme.lowercased() == "https" ? 443 : 80
            if let withPort = components.string { variants.append(withPort) }
        }
        return variants
    }

    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
