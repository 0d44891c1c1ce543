import Foundation
import Logging
import Testing
import SwitchboardBase
import SwitchboardDomain
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardObservability
import SwitchboardStore
import TestKit
import TestSupport
@testable import SwitchboardRuntime
@testable import WorkerKit
import LocalFleet
import Sandbox
import SwitchboardJSON

/// The components that read time, on one manual clock: each takes its time from the ``TimeSource`` it is given, so
/// minutes, days and token lifetimes pass in microseconds and nothing depends on the machine's speed.
@Suite("Time from one injectable clock", .timeLimit(.minutes(2)))
struct ManualClockTests {
    static let box = try! SecretBox(base64Key: Data((0..<32).map { UInt8($0) }).base64EncodedString())

    func account(
        _ id: String, gorgias: String, auth: Account.GorgiasAuthKind = .apiKey, _ credentials: AccountCredentials
    )
        throws -> Account
    {
        Account(
            id: id, gorgiasBaseURL: gorgias, gorgiasAuthKind: auth, gorgiasEmail: "ops@\(id).example",
            smsBaseURL: "https://api.twilio.com", smsAccountSid: "AC\(id)", smsSender: .number("+15557654321"),
            settings: AccountSettings(brand: "Acme"), sealedCredentials: try credentials.sealed(Self.box))
    }

    @Test("the breaker forgets accounts idle past its activity window by the injected clock, then opens on one account")
    func breaker() async {
        let clock = ManualClock()
        let gate = BreakerGate(settings: .init(threshold: 2, activityWindow: .seconds(60)), time: clock)
        var transitions = gate.transitions.makeAsyncIterator()
        let failure = ProcessingFailure(.transient, "gorgias.http_503", "down", dependency: .gorgias)
        gate.success(account: "other", dependencies: [.gorgias])
        gate.failure(failure, account: "acme")
        gate.failure(failure, account: "acme")
        #expect(!gate.isOpen, "another merchant is active: acme's failures are acme's")
        clock.advance(by: .seconds(61))
        gate.failure(failure, account: "acme")
        gate.failure(failure, account: "acme")
        #expect(gate.isOpen, "the other merchant went idle a minute ago on this clock")
        #expect(await transitions.next() == .opened(.gorgias), "the transition arrives as an event")
    }

    @Test(
        "the store-backed limiter waits for its budget on the injected clock, and refuses a wait beyond its bound at once"
    )
    func rateLimiter() async throws {
        try await withFreshStore(.sqlite) { store in
            let clock = ManualClock()
            let limiter = StoreRateLimiter(store: store, time: clock)
            let budget = RateBudget(bucket: "gorgias:acme", capacity: 2, perSecond: 1)
            try await limiter.acquire(budget, count: 2, maximumWait: .seconds(5))
            #expect(clock.elapsed == .zero)
            let third = Task { try await limiter.acquire(budget, count: 1, maximumWait: .seconds(5)) }
            #expect(await eventually(timeout: .seconds(10)) { clock.sleeperCount == 1 }, "waits for its token")
            clock.advanceToNextDeadline()
            try await third.value
            #expect(clock.elapsed >= .milliseconds(900) && clock.elapsed <= .seconds(2), "\(clock.elapsed)")
            let before = clock.elapsed
            await #expect(throws: ProcessingFailure.self) {
                try await limiter.acquire(budget, count: 2, maximumWait: .milliseconds(100))
            }
            #expect(clock.elapsed == before, "a wait beyond the bound is refused without sleeping")
        }
    }

    @Test("an OAuth token is used until its refresh margin on the injected clock, then refreshed once and stored")
    func tokenKeeper() async throws {
        let sandbox = try await SandboxFixture()
        let configuration = sandbox.server.configuration
        let app = GorgiasOAuthApp(
            clientId: configuration.oauthClientId, clientSecret: configuration.oauthClientSecret)
        let gorgias = sandbox.gorgiasBaseURL("shop")
        try await HTTPClient.withClient { http in
            // The merchant consents (the sandbox approves at once); the code becomes the first grant.
            let consent = try await http.execute(
                APIRequest(
                    url: app.authorizeURL(
                        gorgiasBaseURL: gorgias, redirectURI: "https://switchboard.example/oauth/callback",
                        state: "s", nonce: "n") + "&approve=yes", service: "test"))
            let location = try #require(consent.headers.first { $0.0.lowercased() == "location" }?.1)
            let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
            let grant = try await app.exchange(
                code: code, redirectURI: "https://switchboard.example/oauth/callback", gorgiasBaseURL: gorgias,
                http: http)
            let lifetime = try #require(grant.expiresIn)
            try await withFreshStore(.sqlite) { store in
                let clock = ManualClock(epoch: Date())
                var credentials = AccountCredentials(gorgiasOAuthToken: grant.accessToken, smsAuthToken: "sms")
                credentials.gorgiasRefreshToken = grant.refreshToken
                credentials.gorgiasTokenIssuedAt = clock.date
                credentials.gorgiasTokenExpiresAt = clock.date.addingTimeInterval(lifetime.seconds)
                let shop = try account("shop", gorgias: gorgias, auth: .oauth, credentials)
                try await store.createAccount(shop)
                let keeper = OAuthTokenKeeper(
                    account: shop, credentials: credentials, app: app, store: store, box: Self.box, http: http,
                    time: clock)
                #expect(try await keeper.accessToken() == grant.accessToken)
                clock.advance(by: lifetime - OAuthTokenKeeper.refreshMargin(lifetime: lifetime) - .milliseconds(10))
                #expect(try await keeper.accessToken() == grant.accessToken, "not yet in the refresh margin")
                clock.advance(by: .milliseconds(20))
                let refreshed = try await keeper.accessToken()
                #expect(refreshed != grant.accessToken)
                #expect(try await keeper.accessToken() == refreshed, "refreshed once")
                let stored = try #require(try await store.account(id: "shop")).credentials(Self.box)
                #expect(stored.gorgiasOAuthToken == refreshed)
                #expect(stored.gorgiasTokenIssuedAt == clock.date, "stamped with the injected wall clock")
                let view = try await sandbox.json("/sandbox/gorgias/shop")
                #expect(view["oauth"]?["refreshes"]?.intValue == 1)
            }
        }
        await sandbox.stop()
    }

    @Test(
        "a follow-up postponed by the injected clock is not claimed before it is due, is claimed after, and is given up after seven days"
    )
    func followUps() async throws {
        try await withFreshStore(.sqlite) { store in
            let clock = ManualClock()
            // Gorgias is unreachable (a closed port): every attempt fails transiently.
            let unreachable = "http://127.0.0.1:\(freeLoopbackPort())"
            try await store.createAccount(
                try account("acme", gorgias: unreachable, AccountCredentials(gorgiasAPIKey: "k", smsAuthToken: "s")))
            try await store.scheduleFollowUp(
                HelpdeskFollowUp(
                    accountId: "acme", key: "stop:1", ticketId: 42, note: "opted out", closeTicket: true,
                    createdAt: clock.date))
            try await HTTPClient.withClient { http in
                let followUps = HelpdeskFollowUps(
                    store: store,
                    accounts: AccountDirectory(
                        store: store, box: Self.box, http: http, limiter: UnlimitedRateLimiter(), time: clock),
                    metrics: MetricsBootstrap.shared(), logger: Logger(label: "followups"), time: clock)
                #expect(try await followUps.drainOnce() == 1)
                let postponed = try #require(try await store.followUp(accountId: "acme", key: "stop:1"))
                #expect(postponed.outcome == nil && postponed.dueAt > clock.date)
                #expect(try await followUps.drainOnce() == 0, "not due yet on the injected clock")
                clock.advance(by: .seconds(3))
                #expect(try await followUps.drainOnce() == 1, "due after its backoff")
                clock.advance(by: .seconds(8 * 86400))
                #expect(try await followUps.drainOnce() == 1)
                let ended = try #require(try await store.followUp(accountId: "acme", key: "stop:1"))
                #expect(ended.outcome == .failed && ended.lastError?.contains("gave up") == true, "\(ended)")
            }
        }
    }
}
