/// Reads a NUL-terminated C string out of a fixed-size buffer filled by a C call.
enum CStringBuffer {
    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
