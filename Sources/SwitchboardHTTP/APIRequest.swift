import Foundation

/// A request to a provider's API (Gorgias, the SMS provider, media hosts) for ``HTTPClient``. Named so it never
/// clashes with swift-http-types' `HTTPRequest`, which the servers (ingress, sandbox) use in the same files.
public struct APIRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// Total time allowed, connection included (nil: the client's default).
    public var timeout: Duration?
    /// Label for metrics (`gorgias`, `sms`…).
    public var service: String
    /// A larger response fails with ``HTTPError/Kind/tooLarge`` (nil: the client's limit).
    public var maximumResponseBytes: Int?

    public init(
        method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Duration? = nil,
        service: String = "other", maximumResponseBytes: Int? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.service = service
        self.maximumResponseBytes = maximumResponseBytes
    }
}

/// A complete HTTP response.
public struct APIResponse: Sendable {
    public var status: Int
    /// Header fields in arrival order (names as sent).
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The last value of header `name`, compared case-insensitively (`Retry-after` and `Retry-After` alike).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.last { $0.0.lowercased() == lowered }?.1
    }

    /// `Retry-After` in seconds (the HTTP-date form is read too), if present.
    public var retryAfter: Duration? {
        guard let value = header("Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        return HTTPDate.parse(value).map { .milliseconds(Int64(max(0, $0.timeIntervalSinceNow) * 1000)) }
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
