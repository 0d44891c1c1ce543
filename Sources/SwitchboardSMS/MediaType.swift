import Foundation

/// What a media file is, read from its first bytes (the provider's declared type is a hint), and a name for it.
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
        if bytes.count >= 12, Array(bytes[4..<8]) == Array("ftyp".utf8) { return isoMedia(brand: Array(bytes[8..<12])) }
        if starts(Array("BEGIN:VCARD".utf8)) { return "text/vcard" }
        return nil
    }

    /// ISO base media files (`ftyp` box) by their major brand: an iPhone's HEIC photo, a QuickTime movie and a 3GPP
    /// clip share the box with MP4 and must not be taken for one.
    static func isoMedia(brand: [UInt8]) -> String {
        switch String(decoding: brand, as: UTF8.self) {
        case "heic", "heix", "heim", "heis", "hevc", "hevx": "image/heic"
        case "mif1", "msf1": "image/heif"
        case "avif", "avis": "image/avif"
        case "qt  ": "video/quicktime"
        case let brand where brand.hasPrefix("3gp") || brand.hasPrefix("3ge") || brand.hasPrefix("3gs"): "video/3gpp"
        case let brand where brand.hasPrefix("3g2"): "video/3gpp2"
        case "M4A ", "M4B ": "audio/mp4"
        default: "video/mp4"
        }
    }

    /// The type to trust: the sniffed one; else the declared one, unless it claims an image the bytes are not.
    public static func effective(declared: String?, bytes: [UInt8]) -> String {
        if let sniffed = sniff(bytes) { return sniffed }
        let declared =
            declared?.lowercased().split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return declared.isEmpty || imageTypes.contains(declared) ? "application/octet-stream" : declared
    }

    /// A file name for an attachment of `type`: `image-1.jpg`.
    public static func filename(index: Int, type: String) -> String {
        let ext: String
        switch type {
        case "image/jpeg": ext = "jpg"
        case "image/png": ext = "png"
        case "image/gif": ext = "gif"
        case "application/pdf": ext = "pdf"
        case "video/mp4": ext = "mp4"
        case "image/heic": ext = "heic"
        case "image/heif": ext = "heif"
        case "image/avif": ext = "avif"
        case "video/quicktime": ext = "mov"
        case "video/3gpp": ext = "3gp"
        case "video/3gpp2": ext = "3g2"
        case "audio/mp4": ext = "m4a"
        case "text/vcard": ext = "vcf"
        default: ext = "bin"
        }
        return
            "\(type.hasPrefix("image/") ? "image" : type.hasPrefix("video/") ? "video" : "attachment")-\(index + 1).\(ext)"
    }
}
