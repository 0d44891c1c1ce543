import Foundation

/// What a media file is, read from its first bytes (the provider's declared type is a hint), and the size limits
/// Switchboard applies to MMS media (contracts/twilio/twilio_api_v2010.json, MediaUrl: 5 MB for JPEG, PNG and GIF, 500 KB for other types).
public enum MediaType {
    public static let imageTypes: Set<String> = ["image/jpeg", "image/png", "image/gif"]

    /// The type the bytes show, if they are a format Switchboard recognises.
    public static func sniff(_ bytes: [UInt8]) -> String? {
        func starts(_ prefix: [UInt8]) -> Bool {
            bytes.count >= prefix.count && Array(bytes.prefix(prefix.count)) == prefix
        }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        if bytes.count >= 12, Array(bytes[4..<8]) == Array("ftyp".utf8) { return "video/mp4" }
        if starts(Array("BEGIN:VCARD".utf8)) { return "text/vcard" }
        return nil
    }

    /// The type to trust: the sniffed one; else the declared one, unless it claims an image the bytes are not.
    public static func effective(declared: String?, bytes: [UInt8]) -> String {
        if let sniffed = sniff(bytes) { return sniffed }
        let declared =
            declared?.lowercased().split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return declared.isEmpty || imageTypes.contains(declared) ? "application/octet-stream" : declared
    }

    /// The largest file of `type` Switchboard imports.
    public static func limit(for type: String) -> Int {
        imageTypes.contains(type) ? 5 * 1024 * 1024 : 500 * 1024
    }

    public static func isImage(_ type: String) -> Bool { imageTypes.contains(type) }

    /// A file name for an attachment of `type`: `image-1.jpg`.
    public static func filename(index: Int, type: String) -> String {
        let ext: String
        switch type {
        case "image/jpeg": ext = "jpg"
        case "image/png": ext = "png"
        case "image/gif": ext = "gif"
        case "application/pdf": ext = "pdf"
        case "video/mp4": ext = "mp4"
        case "text/vcard": ext = "vcf"
        default: ext = "bin"
        }
        return "\(isImage(type) ? "image" : "attachment")-\(index + 1).\(ext)"
    }
}
