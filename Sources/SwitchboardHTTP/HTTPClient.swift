internal import CCurl
import Foundation
import Logging
import Prometheus
import Synchronization
import Tracing
import SwitchboardBase
import SwitchboardObservability

/// HTTP on libcurl's multi interface: one dedicated thread drives every transfer (`curl_multi_perform` and
/// `curl_multi_poll`, woken by `curl_multi_wakeup`), so hundreds of concurrent requests need no thread each and
/// share the multi handle's connection cache (keep-alive reuse, TLS sessions).
///
/// `@unchecked Sendable`: the multi and easy handles are used only on the transfer thread; everything shared with
/// callers is under `state`'s lock.
public final class HTTPClient: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var connectTimeout: Duration = .seconds(5)
        public var timeout: Duration = .seconds(30)
        public var maxConnectionsPerHost: Int = 64
        public var maxResponseBytes: Int = 8 * 1024 * 1024
        public var userAgent = "switchboard/1.0"

        public init() {}
    }

    private struct State {
        var submitted: [Transfer] = []
        var cancelled: [Int] = []
        var running = true
        var nextId = 0
    }

    public let configuration: Configuration
    private let multi: UnsafeMutableRawPointer
    private let state = Mutex(State())
    private let threadDone = AsyncEvent()
    private let metrics: LabeledMetrics?
    private let logger: Logger

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    public init(
        configuration: Configuration = Configuration(), metrics: LabeledMetrics? = nil,
        logger: Logger = Logger(label: "http")
    ) {
        _ = Self.globalInit
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.multi = curl_multi_init()
        _ = sb_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, configuration.maxConnectionsPerHost)
        _ = sb_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, configuration.maxConnectionsPerHost * 4)
        let thread = Thread { [self] in transferLoop() }
        thread.name = "switchboard-http"
        thread.start()
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    /// Sends `request` and returns the complete response. Throws ``HTTPError`` when no response arrived
    /// (timeouts, connection failures) and `CancellationError` when the task is cancelled.
    public func execute(_ request: APIRequest) async throws -> APIResponse {
        // A span only as a child of a record attempt or webhook; background calls (health checks) start no trace.
        guard TracingSwitch.isOn, ServiceContext.current != nil else { return try await transfer(request) }
        return try await HTTPTracing.clientSpan(request) { try await transfer(request) }
    }

    private func transfer(_ request: APIRequest) async throws -> APIResponse {
        let started = ContinuousClock.now
        let transfer = Transfer(
            request: request, maxResponseBytes: request.maximumResponseBytes ?? configuration.maxResponseBytes)
        let id = state.withLock { state -> Int in
            state.nextId += 1
            return state.nextId
        }
        transfer.id = id
        do {
            let response = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation {
                    (continuation: CheckedContinuation<APIResponse, any Error>) in
                    transfer.continuation = continuation
                    let accepted = state.withLock { state -> Bool in
                        guard state.running else { return false }
                        state.submitted.append(transfer)
                        return true
                    }
                    if accepted {
                        curl_multi_wakeup(multi)
                    } else {
                        continuation.resume(
                            throwing: HTTPError(kind: .cancelled, reason: "client shut down", service: request.service))
                    }
                }
            } onCancel: {
                state.withLock { $0.cancelled.append(id) }
                curl_multi_wakeup(multi)
            }
            record(request.service, status: response.status, duration: ContinuousClock.now - started)
            return response
        } catch {
            record(request.service, status: 0, duration: ContinuousClock.now - started)
            throw error
        }
    }

    /// Runs `body` with a client of its own, shut down afterwards whatever happens.
    public static func withClient<T: Sendable>(_ body: (HTTPClient) async throws -> T) async throws -> T {
        let client = HTTPClient()
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// Stops the transfer thread; transfers in flight fail as cancelled.
    public func shutdown() async {
        state.withLock { $0.running = false }
        curl_multi_wakeup(multi)
        await threadDone.wait()
    }

    private func record(_ service: String, status: Int, duration: Duration) {
        guard let metrics else { return }
        metrics.counter(MetricCatalog.httpRequests, [("service", service), ("status", String(status))]).increment()
        metrics.histogram(MetricCatalog.httpDuration, [("service", service)]).record(duration)
    }

    // MARK: Transfer thread

    private func transferLoop() {
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        var idleHandles: [UnsafeMutableRawPointer] = []
        while true {
            let (submitted, cancelled, running) = state.withLock { state in
                defer {
                    state.submitted = []
                    state.cancelled = []
                }
                return (state.submitted, state.cancelled, state.running)
            }
            for transfer in submitted {
                let handle = idleHandles.popLast() ?? curl_easy_init()!
                if let failure = transfer.configure(handle, defaults: configuration) {
                    curl_easy_reset(handle)
                    idleHandles.append(handle)
                    transfer.finish(.failure(failure))
                    continue
                }
                active[handle] = transfer
                curl_multi_add_handle(multi, handle)
            }
            for id in cancelled {
                if let (handle, transfer) = active.first(where: { $0.value.id == id }) {
                    curl_multi_remove_handle(multi, handle)
                    active[handle] = nil
                    transfer.finish(.failure(CancellationError()))
                    curl_easy_reset(handle)
                    idleHandles.append(handle)
                }
            }
            if !running {
                for (handle, transfer) in active {
                    curl_multi_remove_handle(multi, handle)
                    transfer.finish(
                        .failure(
                            HTTPError(kind: .cancelled, reason: "client shut down", service: transfer.request.service)))
                    curl_easy_cleanup(handle)
                }
                idleHandles.forEach { curl_easy_cleanup($0) }
                threadDone.signal()
                return
            }
            var stillRunning: Int32 = 0
            curl_multi_perform(multi, &stillRunning)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                var handle: UnsafeMutableRawPointer?
                var result = CURLE_OK
                guard sb_curl_msg_done(message, &handle, &result) != 0, let handle,
                    let transfer = active.removeValue(forKey: handle)
                else {
                    continue
                }
                curl_multi_remove_handle(multi, handle)
                transfer.complete(handle: handle, result: result)
                curl_easy_reset(handle)
                idleHandles.append(handle)
            }
            var ready: Int32 = 0
            curl_multi_poll(multi, nil, 0, 1000, &ready)
        }
    }
}

/// One request's libcurl state. Touched only by the transfer thread once submitted.
private final class Transfer: @unchecked Sendable {
    let request: APIRequest
    let maxResponseBytes: Int
    var id = 0
    var continuation: CheckedContinuation<APIResponse, any Error>?
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    var tooLarge = false
    private var headerList: UnsafeMutablePointer<curl_slist>?

    init(request: APIRequest, maxResponseBytes: Int) {
        self.request = request
        self.maxResponseBytes = maxResponseBytes
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
    }

    /// Sets up `handle` for this request; returns an error when the request cannot be sent at all.
    func configure(_ handle: UnsafeMutableRawPointer, defaults: HTTPClient.Configuration) -> HTTPError? {
        guard let url = URL(string: request.url), let scheme = url.scheme,
            ["http", "https"].contains(scheme.lowercased())
        else {
            return HTTPError(kind: .invalidRequest, reason: "not an http(s) URL", service: request.service)
        }
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        _ = sb_curl_easy_setopt_string(handle, CURLOPT_URL, request.url)
        _ = sb_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = sb_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(defaults.connectTimeout.milliseconds))
        _ = sb_curl_easy_setopt_long(
            handle, CURLOPT_TIMEOUT_MS, Int((request.timeout ?? defaults.timeout).milliseconds))
        _ = sb_curl_easy_setopt_string(handle, CURLOPT_USERAGENT, defaults.userAgent)
        _ = sb_curl_easy_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        _ = sb_curl_easy_setopt_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))
        _ = sb_curl_easy_setopt_callback(handle, CURLOPT_WRITEFUNCTION, transferWrite)
        _ = sb_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque)
        _ = sb_curl_easy_setopt_callback(handle, CURLOPT_HEADERFUNCTION, transferHeader)
        _ = sb_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque)
        switch request.method {
        case "GET": _ = sb_curl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD": _ = sb_curl_easy_setopt_long(handle, CURLOPT_NOBODY, 1)
        default:
            _ = sb_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        if let body = request.body {
            _ = sb_curl_easy_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBytes { bytes in
                _ = sb_curl_easy_setopt_pointer(
                    handle, CURLOPT_COPYPOSTFIELDS,
                    UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
        }
        var list: UnsafeMutablePointer<curl_slist>?
        // An empty Expect header stops curl from waiting for `100 Continue` on POST bodies.
        for (name, value) in request.headers + [("Expect", "")] {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        headerList = list
        _ = sb_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        return nil
    }

    func complete(handle: UnsafeMutableRawPointer, result: CURLcode) {
        guard result == CURLE_OK else {
            finish(.failure(classify(result)))
            return
        }
        var status = 0
        _ = sb_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        finish(.success(APIResponse(status: status, headers: headers, body: body)))
    }

    func finish(_ result: Result<APIResponse, any Error>) {
        continuation?.resume(with: result)
        continuation = nil
    }

    private func classify(_ result: CURLcode) -> HTTPError {
        let reason = String(cString: curl_easy_strerror(result))
        let kind: HTTPError.Kind
        switch result {
        case CURLE_OPERATION_TIMEDOUT: kind = .timeout
        case CURLE_WRITE_ERROR where tooLarge: kind = .tooLarge
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE:
            kind = .tls
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: kind = .invalidRequest
        default: kind = .connection  // refused, reset, dropped mid-response, DNS, empty reply…
        }
        return HTTPError(kind: kind, reason: reason, service: request.service)
    }
}

private let transferWrite: sb_curl_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard transfer.body.count + length <= transfer.maxResponseBytes else {
        transfer.tooLarge = true
        return 0  // aborts the transfer with CURLE_WRITE_ERROR
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) {
        transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

private let transferHeader: sb_curl_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
    if line.hasPrefix("HTTP/") {
        transfer.headers = []  // a new response (after a redirect or 100 Continue) starts over
    } else if let colon = line.firstIndex(of: ":") {
        // Trimmed without bridging to NSString: this runs for every header of every response.
        let name = line[..<colon].trimmingWhitespace()
        let value = line[line.index(after: colon)...].trimmingWhitespace()
        transfer.headers.append((String(name), String(value)))
    }
    return length
}

extension Substring {
    /// Without leading and trailing whitespace and line breaks.
    fileprivate func trimmingWhitespace() -> Substring {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return self[first...last]
    }
}
