import Foundation

/// A `multipart/form-data` body with one file part (RFC 7578), for uploads.
public struct MultipartForm: Sendable {
    public let boundary: String
    public let body: [UInt8]

    /// The file `bytes` as form field `field`, named `filename`, of type `contentType`.
    public init(field: String = "file", filename: String, contentType: String, bytes: [UInt8]) {
        boundary = "switchboard-" + UUID().uuidString.lowercased()
        // A quote or a line break in the name would break the header: keep a plain name.
        let safeName = String(filename.map { $0 == "\"" || $0 == "\r" || $0 == "\n" ? "_" : $0 })
        var body = Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(safeName)\"\r\nContent-Type: \(contentType)\r\n\r\n"
                .utf8)
        body += bytes
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        self.body = body
    }

    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// The first file part of a `multipart/form-data` body: its filename, type and bytes (the sandbox's upload route).
    public static func firstFile(_ body: [UInt8], contentType: String) -> (
        filename: String, contentType: String, bytes: [UInt8]
    )? {
        guard let marker = contentType.range(of: "boundary=") else { return nil }
        let boundary = Array(
            ("--" + contentType[marker.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))).utf8)
        guard let start = body.firstRange(of: boundary),
            let headersEnd = body[start.upperBound...].firstRange(of: Array("\r\n\r\n".utf8))
        else { return nil }
        let headers = String(decoding: body[start.upperBound..<headersEnd.lowerBound], as: UTF8.self)
        let rest = body[headersEnd.upperBound...]
        guard let end = rest.firstRange(of: Array("\r\n".utf8) + boundary) else { return nil }
        var filename = "file"
        var type = "application/octet-stream"
        for line in headers.split(separator: "\r\n") {
            let lower = line.lowercased()
            if lower.hasPrefix("content-disposition:"), let range = line.range(of: "filename=\"") {
                filename = String(line[range.upperBound...].prefix { $0 != "\"" })
            } else if lower.hasPrefix("content-type:") {
                type = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
            }
        }
        return (filename, type, Array(rest[..<end.lowerBound]))
    }
}
