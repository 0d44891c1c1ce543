internal import CCurl
import Foundation
import SwitchboardBase

/// Sends plain-text email through an SMTP server with libcurl's SMTP support (`smtp://` or `smtps://`; STARTTLS is
/// required for `smtp://` unless the server is on loopback). Each message is one blocking transfer on a thread of
/// its own: notices are rare, and a slow mail server must not hold anything else up.
public struct SMTPMailer: Sendable {
    public var serverURL: String
    public var from: String
    /// `user:password`; never printed.
    var login: String?
    public var timeout: Duration = .seconds(30)

    public init(serverURL: String, from: String, login: String? = nil) {
        self.serverURL = serverURL
        self.from = from
        self.login = login
    }

    /// The mailer configured by `SMTP_URL` and `SMTP_FROM` (and `SMTP_USERNAME`/`SMTP_PASSWORD`), or nil without
    /// `SMTP_URL`.
    public static func from(_ environment: Environment) throws -> SMTPMailer? {
        guard let url = environment.values["SMTP_URL"], !url.isEmpty else { return nil }
        guard let scheme = URL(string: url)?.scheme, ["smtp", "smtps"].contains(scheme) else {
            throw ConfigurationError(setting: "SMTP_URL", reason: "must be an smtp:// or smtps:// URL")
        }
        guard let from = environment.values["SMTP_FROM"], from.contains("@") else {
            throw ConfigurationError(
                setting: "SMTP_FROM", reason: "required with SMTP_URL: the notices' sender address")
        }
        let login = environment.values["SMTP_USERNAME"].map { "\($0):\(environment.values["SMTP_PASSWORD"] ?? "")" }
        return SMTPMailer(serverURL: url, from: from, login: login)
    }

    /// Sends `body` to `recipient`; throws ``HTTPError`` (service `smtp`) when the server refuses or cannot be reached.
    public func send(to recipient: String, subject: String, body: String) async throws {
        let message = Self.message(from: from, to: recipient, subject: subject, body: body)
        let (code, reason) = await BlockingCall.run { [self] in perform(recipient: recipient, message: message) }
        guard code == 0 else {
            throw HTTPError(kind: .connection, reason: "SMTP: \(reason)", service: "smtp")
        }
    }

    /// An RFC 5322 message: headers, a blank line, the body with CRLF line ends and dot-stuffing left to libcurl.
    static func message(from: String, to: String, subject: String, body: String) -> [UInt8] {
        let clean = { (text: String) in
            text.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: " ")
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let lines =
            [
                "Date: \(formatter.string(from: Date()))", "From: \(clean(from))", "To: \(clean(to))",
                "Subject: \(clean(subject))", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 8bit", "",
            ]
            // Every line end, a lone CR too, becomes CRLF: a bare CR in a body is what SMTP smuggling rides on.
            + body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    private func perform(recipient: String, message: [UInt8]) -> (Int, String) {
        guard let handle = curl_easy_init() else { return (-1, "libcurl could not start a transfer") }
        defer { curl_easy_cleanup(handle) }
        let upload = Upload(message)
        let opaque = Unmanaged.passRetained(upload).toOpaque()
        defer { Unmanaged<Upload>.fromOpaque(opaque).release() }
        var recipients: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "<\(recipient)>")
        defer { curl_slist_free_all(recipients) }
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(URL(string: serverURL)?.host ?? "")
        _ = sb_curl_easy_setopt_string(handle, CURLOPT_URL, serverURL)
        _ = sb_curl_easy_setopt_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_SMTP | CURLPROTO_SMTPS))
        _ = sb_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = sb_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout.milliseconds))
        _ = sb_curl_easy_setopt_long(
            handle, CURLOPT_USE_SSL, Int(loopback ? CURLUSESSL_TRY.rawValue : CURLUSESSL_ALL.rawValue))
        _ = sb_curl_easy_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(from)>")
        _ = sb_curl_easy_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        if let login { _ = sb_curl_easy_setopt_string(handle, CURLOPT_USERPWD, login) }
        _ = sb_curl_easy_setopt_long(handle, CURLOPT_UPLOAD, 1)
        _ = sb_curl_easy_setopt_callback(handle, CURLOPT_READFUNCTION, uploadRead)
        _ = sb_curl_easy_setopt_pointer(handle, CURLOPT_READDATA, opaque)
        let result = curl_easy_perform(handle)
        recipients = nil
        return (Int(result.rawValue), String(cString: curl_easy_strerror(result)))
    }
}

extension SMTPMailer: CustomStringConvertible {
    public var description: String { "SMTPMailer(\(serverURL), from: \(from))" }
}

/// The message being read out to libcurl.
private final class Upload {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

private let uploadRead: sb_curl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let upload = Unmanaged<Upload>.fromOpaque(userdata).takeUnretainedValue()
    let length = min(size * count, upload.bytes.count - upload.offset)
    guard length > 0 else { return 0 }
    upload.bytes.withUnsafeBufferPointer { source in
        buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
            $0.update(from: source.baseAddress! + upload.offset, count: length)
        }
    }
    upload.offset += length
    return length
}
