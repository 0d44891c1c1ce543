import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardBase

/// How every page Switchboard serves is sent: as ``HTML`` with a strict Content-Security-Policy (no script at all,
/// styles only by their digest, no framing, forms only to the page's own origin), `nosniff`, no referrer and no caching.
public enum WebPage {
    /// An HTML response whose inline `<style>` blocks are exactly `styles` (each allowed by its SHA-256).
    public static func response(_ page: HTML, status: HTTPResponse.Status = .ok, styles: [String] = []) -> Response {
        var headers = securityHeaders(styles: styles)
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page.text)))
    }

    /// A redirect to a path of the same site.
    public static func redirect(to location: String, setting cookie: String? = nil) -> Response {
        var headers = securityHeaders(styles: [])
        headers[.location] = location
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    /// The headers every page carries.
    public static func securityHeaders(styles: [String]) -> HTTPFields {
        let hashes = styles.map { "'sha256-\(Data(SHA256.hash(data: Data($0.utf8))).base64EncodedString())'" }
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src \(hashes.isEmpty ? "'none'" : hashes.joined(separator: " ")); "
            + "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        headers[.xFrameOptions] = "DENY"
        headers[.cacheControl] = "no-store"
        return headers
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let secFetchSite = Self("Sec-Fetch-Site")!
}
