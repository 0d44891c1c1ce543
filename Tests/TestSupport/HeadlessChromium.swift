#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import Synchronization
import SwitchboardJSON

/// Debian's Chromium, headless, driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
/// messages separated by NUL bytes on file descriptors 3 and 4, so no WebSocket and no port): open a page, run
/// JavaScript in it as a user's clicks would, take a screenshot. For tests of web pages as a browser sees them.
public final class HeadlessChromium: Sendable {
    /// The browser binary (`scripts/install-deps` installs `chromium`).
    public static let executable = "/usr/lib/chromium/chromium"

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let pid: pid_t
    private let toBrowser: Int32
    private let fromBrowser: Int32
    private let profile: URL
    private let state = Mutex(State())
    private let session = Mutex<String?>(nil)

    private struct State {
        var nextId = 1
        var pending: [Int: CheckedContinuation<JSONValue, any Error>] = [:]
        var ended = false
    }

    /// Starts the browser with an empty profile and opens one page (about:blank).
    public init() async throws {
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        var commands: [Int32] = [0, 0]
        var replies: [Int32] = [0, 0]
        guard pipe(&commands) == 0, pipe(&replies) == 0 else { throw Failure(description: "pipe() failed") }
        let arguments = [
            Self.executable, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run", "--user-data-dir=\(profile.path)", "--window-size=1280,900", "about:blank",
        ]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, commands[0], 3)
        posix_spawn_file_actions_adddup2(&actions, replies[1], 4)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        for fd in [commands[0], commands[1], replies[0], replies[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, Self.executable, &actions, nil, argv, environ)
        Glibc.close(commands[0])
        Glibc.close(replies[1])
        guard spawned == 0 else {
            Glibc.close(commands[1])
            Glibc.close(replies[0])
            throw Failure(description: "could not start \(Self.executable): errno \(spawned)")
        }
        pid = child
        toBrowser = commands[1]
        fromBrowser = replies[0]
        let thread = Thread { [self] in readReplies() }
        thread.name = "chromium-devtools"
        thread.start()
        let target = try await send("Target.createTarget", ["url": "about:blank"], inSession: false)
        let attached = try await send(
            "Target.attachToTarget", ["targetId": target["targetId"] ?? .null, "flatten": true], inSession: false)
        session.withLock { $0 = attached["sessionId"]?.stringValue }
    }

    /// Loads `url` and returns once the page has loaded (its final URL, after redirects, is returned).
    @discardableResult
    public func open(_ url: String) async throws -> String {
        _ = try await send("Page.navigate", ["url": .string(url)])
        return try await loaded()
    }

    /// Waits until the page that is loading (after ``open(_:)`` or a click that submits a form) has loaded; returns
    /// its URL.
    public func loaded(timeout: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let state = try await evaluate("document.readyState + ' ' + location.href").stringValue ?? ""
            if state.hasPrefix("complete "), !state.hasSuffix(" about:blank") { return String(state.dropFirst(9)) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "the page did not finish loading within \(timeout)")
    }

    /// Runs `script` in the page and returns its value.
    public func evaluate(_ script: String) async throws -> JSONValue {
        let reply = try await send("Runtime.evaluate", ["expression": .string(script), "returnByValue": true])
        if let exception = reply["exceptionDetails"] { throw Failure(description: "\(script): \(exception)") }
        return reply["result"]?["value"] ?? .null
    }

    /// The page's visible text.
    public func text() async throws -> String {
        try await evaluate("document.body.innerText").stringValue ?? ""
    }

    /// Clicks the element `selector` finds and waits for the page it leads to.
    @discardableResult
    public func click(_ selector: String) async throws -> String {
        _ = try await evaluate("window.__leaving = true; document.querySelector('\(selector)').click(); true")
        // The next page has a window of its own, without the mark.
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let current = try? await evaluate("window.__leaving ? 'leaving' : document.readyState")
            if current?.stringValue == "complete" { return try await loaded() }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "clicking \(selector) led to no page")
    }

    /// Saves a PNG of the page as shown.
    public func screenshot(to file: URL) async throws {
        let shot = try await send("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        guard let data = shot["data"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) else {
            throw Failure(description: "no screenshot data")
        }
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    /// Ends the browser and removes its profile.
    public func close() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        Glibc.close(toBrowser)
        try? FileManager.default.removeItem(at: profile)
    }

    // MARK: The protocol

    private func send(_ method: String, _ params: [String: JSONValue], inSession: Bool = true) async throws
        -> JSONValue
    {
        let sessionId = inSession ? session.withLock { $0 } : nil
        let reply = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<JSONValue, any Error>) in
            let id = state.withLock { state -> Int? in
                guard !state.ended else { return nil }
                defer { state.nextId += 1 }
                state.pending[state.nextId] = continuation
                return state.nextId
            }
            guard let id else {
                return continuation.resume(throwing: Failure(description: "the browser has ended"))
            }
            var message: [String: JSONValue] = [
                "id": .int(Int64(id)), "method": .string(method), "params": .object(params),
            ]
            if let sessionId { message["sessionId"] = .string(sessionId) }
            let bytes = Array(JSONValue.object(message).serialized().utf8) + [0]
            let written = bytes.withUnsafeBytes { write(toBrowser, $0.baseAddress, $0.count) }
            if written != bytes.count, let waiting = state.withLock({ $0.pending.removeValue(forKey: id) }) {
                waiting.resume(throwing: Failure(description: "could not write to the browser"))
            }
        }
        if let error = reply["error"] { throw Failure(description: "\(method): \(error)") }
        return reply["result"] ?? .null
    }

    /// Reads replies until the browser closes its end, answering each waiting request by its id; events are ignored.
    private func readReplies() {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fromBrowser, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            buffer += chunk[0..<count]
            while let end = buffer.firstIndex(of: 0) {
                let message = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                guard let reply = try? JSONParser.parse(message), let id = reply["id"]?.intValue else { continue }
                state.withLock { $0.pending.removeValue(forKey: Int(id)) }?.resume(returning: reply)
            }
        }
        Glibc.close(fromBrowser)
        let waiting = state.withLock { state in
            state.ended = true
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for continuation in waiting { continuation.resume(throwing: Failure(description: "the browser has ended")) }
    }
}
