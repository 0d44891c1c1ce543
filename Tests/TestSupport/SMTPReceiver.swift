import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A local SMTP server (plain, no TLS offered) that accepts every message and keeps it: enough of RFC 5321 for
/// libcurl's client (EHLO, MAIL, RCPT, DATA, QUIT). Each connection is served on a thread of its own.
public final class SMTPReceiver: Sendable {
    public struct Mail: Sendable {
        public var from: String
        public var recipients: [String]
        /// Headers and body as received (dot-stuffing undone).
        public var data: String

        /// A header's value, by case-insensitive name.
        public func header(_ name: String) -> String? {
            for line in data.components(separatedBy: "\r\n") {
                if line.isEmpty { break }
                if line.lowercased().hasPrefix(name.lowercased() + ":") {
                    return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    public let port: Int
    public var url: String { "smtp://127.0.0.1:\(port)" }
    private let mails = Mutex<[Mail]>([])
    private let listener: Int32

    public init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let accepting = Thread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                let serving = Thread { [self] in serve(connection) }
                serving.start()
            }
        }
        accepting.start()
    }

    /// Every message received so far.
    public var received: [Mail] { mails.withLock { $0 } }

    /// Stops accepting connections.
    public func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var pending = [UInt8]()
        func send(_ line: String) {
            _ = line.utf8CString.withUnsafeBufferPointer { write(connection, $0.baseAddress, $0.count - 1) }
        }
        func readLine() -> String? {
            while true {
                if let end = pending.indices.first(where: { $0 > 0 && pending[$0 - 1] == 13 && pending[$0] == 10 }) {
                    let line = String(decoding: pending[..<(end - 1)], as: UTF8.self)
                    pending.removeFirst(end + 1)
                    return line
                }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = read(connection, &buffer, buffer.count)
                guard count > 0 else { return nil }
                pending += buffer[..<count]
            }
        }
        send("220 localhost test SMTP\r\n")
        var from = ""
        var recipients: [String] = []
        while let line = readLine() {
            let command = line.uppercased()
            if command.hasPrefix("EHLO") {
                send("250-localhost\r\n250 8BITMIME\r\n")
            } else if command.hasPrefix("MAIL FROM:") {
                from = String(line.dropFirst(10)).trimmingCharacters(in: CharacterSet(charactersIn: " <>"))
                recipients = []
                send("250 OK\r\n")
            } else if command.hasPrefix("RCPT TO:") {
                recipients.append(String(line.dropFirst(8)).trimmingCharacters(in: CharacterSet(charactersIn: " <>")))
                send("250 OK\r\n")
            } else if command == "DATA" {
                send("354 End data with <CR><LF>.<CR><LF>\r\n")
                var lines: [String] = []
                while let dataLine = readLine(), dataLine != "." {
                    lines.append(dataLine.hasPrefix("..") ? String(dataLine.dropFirst()) : dataLine)
                }
                let mail = Mail(from: from, recipients: recipients, data: lines.joined(separator: "\r\n"))
                mails.withLock { $0.append(mail) }
                send("250 OK queued\r\n")
            } else if command == "QUIT" {
                send("221 Bye\r\n")
                return
            } else {
                send("250 OK\r\n")  // HELO, RSET, NOOP
            }
        }
    }
}
