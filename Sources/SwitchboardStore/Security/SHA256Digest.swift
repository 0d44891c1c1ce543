import Crypto
import Foundation

/// SHA-256 as lowercase hex, for identities derived from bytes (a webhook body, a reply's content).
public enum SHA256Digest {
    public static func hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
