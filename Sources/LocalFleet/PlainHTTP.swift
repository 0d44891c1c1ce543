import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A plain GET (independent of Switchboard's own HTTP client), for polling local `/metrics`, `/readyz` and the sandbox.
public func httpGet(_ url: String) async throws -> (status: Int, body: String) {
    let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}
