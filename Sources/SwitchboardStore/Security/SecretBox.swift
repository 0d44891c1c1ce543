import Crypto
import Foundation
import SwitchboardBase

/// Encrypts credentials at rest with AES-256-GCM. The key comes from `SWITCHBOARD_SECRET_KEY`:
/// 32 random bytes, base64-encoded, as `openssl rand -base64 32` prints them.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    public init(base64Key: String, setting: String = "SWITCHBOARD_SECRET_KEY") throws {
        guard let data = Data(base64Encoded: base64Key.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ConfigurationError(
                setting: setting, reason: "not valid base64; generate a key with `openssl rand -base64 32`")
        }
        guard data.count == 32 else {
            throw ConfigurationError(
                setting: setting,
                reason: "must decode to 32 bytes (got \(data.count)); generate a key with `openssl rand -base64 32`"
            )
        }
        self.key = SymmetricKey(data: data)
    }

    /// The box for `SWITCHBOARD_SECRET_KEY`; a missing or malformed key is a configuration error naming it.
    public static func from(_ environment: Environment) throws -> SecretBox {
        guard let value = environment["SWITCHBOARD_SECRET_KEY"] else {
            throw ConfigurationError(
                setting: "SWITCHBOARD_SECRET_KEY",
                reason:
                    "not set; it encrypts account credentials. Generate one with `openssl rand -base64 32` and keep it safe"
            )
        }
        return try SecretBox(base64Key: value)
    }

    /// Seals `plaintext`; returns base64 of nonce ‖ ciphertext ‖ tag.
    public func seal(_ plaintext: Data) throws -> String {
        try AES.GCM.seal(plaintext, using: key).combined!.base64EncodedString()
    }

    /// Opens a value sealed with the same key.
    public func open(_ sealed: String) throws -> Data {
        guard let combined = Data(base64Encoded: sealed), let box = try? AES.GCM.SealedBox(combined: combined),
            let plaintext = try? AES.GCM.open(box, using: key)
        else {
            throw StoreError(.invalidData, "stored credentials cannot be decrypted with this SWITCHBOARD_SECRET_KEY")
        }
        return plaintext
    }
}

/// Never renders the key, whatever prints a value that holds a box.
extension SecretBox: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "SecretBox(redacted)" }
    public var debugDescription: String { description }
}
