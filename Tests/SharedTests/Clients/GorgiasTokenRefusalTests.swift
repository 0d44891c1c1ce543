import Foundation
import Synchronization
import Testing
import SwitchboardGorgias
import SwitchboardHTTP
import TestSupport
import SwitchboardJSON

/// A Gorgias client whose OAuth access token Gorgias refuses (401) asks its token source once for a replacement of
/// exactly the token it sent, and repeats the call with it.
@Suite("Gorgias client: a refused OAuth token", .timeLimit(.minutes(1)))
struct GorgiasTokenRefusalTests {
    /// Hands out `stale` until asked to replace it, then `fresh`; records what it was asked to replace.
    final class Tokens: GorgiasAccessTokens {
        let current = Mutex("stale-token")
        let replaced = Mutex<[String]>([])

        func accessToken() async throws -> String { current.withLock { $0 } }

        func replacing(_ rejected: String) async throws -> String {
            replaced.withLock { $0.append(rejected) }
            return current.withLock {
                $0 = "fresh-token"
                return $0
            }
        }
    }

    @Test("a 401 to the token sent is followed by one replacement of that token and one repeated call")
    func refusedTokenIsReplacedOnce() async throws {
        let sandbox = try await SandboxFixture()
        try await sandbox.post("/sandbox/gorgias/accounts", ["subdomain": "acme", "oauthToken": "fresh-token"])
        let http = HTTPClient()
        let tokens = Tokens()
        let gorgias = GorgiasClient(
            baseURL: sandbox.gorgiasBaseURL("acme"), credentials: .oauthSession(tokens), accountId: "acme", http: http,
            limiter: UnlimitedRateLimiter())
        try await gorgias.checkCredentials()
        #expect(tokens.replaced.withLock { $0 } == ["stale-token"])
        try await gorgias.checkCredentials()  // the fresh token is taken as it is
        #expect(tokens.replaced.withLock { $0 } == ["stale-token"])
        let view = try await sandbox.json("/sandbox/gorgias/acme")
        #expect(view["refusedCalls"]?.intValue == 1)
        await http.shutdown()
        await sandbox.stop()
    }
}
