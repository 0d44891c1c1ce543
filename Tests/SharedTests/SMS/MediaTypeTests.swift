import Foundation
import Testing
import SwitchboardSMS

/// A media file's type from its first bytes: an iPhone's HEIC photo, a QuickTime movie and a 3GPP clip share MP4's
/// `ftyp` box and are told apart by its brand.
@Suite("Media types")
struct MediaTypeTests {
    static func isoFile(_ brand: String) -> [UInt8] {
        [0, 0, 0, 24] + Array("ftyp".utf8) + Array(brand.utf8) + [0, 0, 0, 0] + Array(repeating: 0, count: 12)
    }

    @Test(
        "ISO media brands",
        arguments: [
            ("heic", "image/heic", "image-1.heic"), ("mif1", "image/heif", "image-1.heif"),
            ("qt  ", "video/quicktime", "video-1.mov"), ("3gp4", "video/3gpp", "video-1.3gp"),
            ("3g2a", "video/3gpp2", "video-1.3g2"), ("isom", "video/mp4", "video-1.mp4"),
            ("mp42", "video/mp4", "video-1.mp4"),
        ])
    func brands(_ brand: String, _ type: String, _ name: String) {
        let sniffed = MediaType.sniff(Self.isoFile(brand))
        #expect(sniffed == type)
        #expect(MediaType.filename(index: 0, type: sniffed ?? "") == name)
    }

    @Test("a declared image the bytes are not is not trusted; other declared types are")
    func declared() {
        #expect(
            MediaType.effective(declared: "image/jpeg", bytes: Array("not an image".utf8)) == "application/octet-stream"
        )
        #expect(MediaType.effective(declared: "text/plain; charset=utf-8", bytes: Array("hi".utf8)) == "text/plain")
        #expect(MediaType.effective(declared: "video/mp4", bytes: Self.isoFile("heic")) == "image/heic")
    }
}
