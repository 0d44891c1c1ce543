import Foundation
import Logging
import Ingress
import LocalFleet
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardJSON
import SwitchboardSMS
import SwitchboardStore
import WorkerKit

extension E2EFleet {
    /// The webhook ingress running in this process against the fleet's broker and store, as `switchboard-ingress`
    /// does, with accounts registered to it (Gorgias HTTP integration and status callback).
    public final class RunningIngress: Sendable {
        public let url: String
        let store: Store
        let http: HTTPClient
        let task: Task<Void, any Error>
        let box: SecretBox

        init(url: String, store: Store, http: HTTPClient, box: SecretBox, task: Task<Void, any Error>) {
            self.url = url
            self.store = store
            self.http = http
            self.box = box
            self.task = task
        }

        /// Registers `account` with this ingress; returns its webhook URLs.
        @discardableResult
        public func register(_ account: TestAccount) async throws -> IngressRegistration.Endpoints {
            try await IngressRegistration.connect(
                accountId: account.id, ingressURL: url, store: store, box: box, http: http)
        }

        public func stop() async {
            task.cancel()
            _ = try? await task.value
            await http.shutdown()
            await store.close()
        }
    }

    /// Starts the ingress (accounts are read fresh on every call, so settings changes apply at once).
    /// With `oauth`, it serves Gorgias OAuth connect (`/oauth/install`, `/oauth/callback`) for that app.
    public func startIngress(oauth: GorgiasOAuthApp? = nil) async throws -> RunningIngress {
        let store = try await Store.open(database, logger: Logger(label: "e2e-ingress"))
        let box = try SecretBox(base64Key: secretKey)
        let http = HTTPClient()
        let directory = AccountDirectory(
            store: store, box: box, http: http, limiter: UnlimitedRateLimiter(), ttl: .milliseconds(1), oauthApp: oauth)
        var logger = Logger(label: "e2e-ingress")
        logger.logLevel = .critical
        let ingress = IngressServer(
            configuration: .init(), accounts: directory, producer: broker.producer, receipts: store, logger: logger,
            oauth: oauth.map { OAuthConnect(app: $0, store: store, box: box, http: http, logger: logger) })
        let task = Task { try await ingress.run() }
        return RunningIngress(url: await ingress.url(), store: store, http: http, box: box, task: task)
    }

    /// A customer texts `body` to the account's number through the sandbox: Twilio's keyword engine runs there (when
    /// the account's default opt-out handling is on) and the signed webhook goes where the number's texts are routed.
    /// Connecting points the number at the ingress; when the test did not connect (an ingress process of its own),
    /// the number is pointed at `endpoints.inbound` first, as the merchant would in the provider's console. Throws
    /// when the sandbox posted elsewhere.
    /// `media`: files the sandbox hosts behind the account's credentials, as `{"contentType", "size"}`.
    @discardableResult
    public func customerTexts(
        _ test: TestAccount, from phone: String, _ body: String, media: [JSONValue] = [],
        to endpoints: IngressRegistration.Endpoints
    ) async throws -> String {
        let numbers = try await sandbox.json("/sandbox/twilio/\(test.twilioSid)")["numbers"]
        if numbers?[test.number]?["smsUrl"]?.stringValue == nil {
            try await pointNumber(test, at: endpoints.inbound)
        }
        let sent = try await sandbox.post(
            "/sandbox/twilio/\(test.twilioSid)/inbound",
            ["from": .string(phone), "to": .string(test.number), "body": .string(body), "media": .array(media)])
        guard sent["webhook"]?.stringValue == endpoints.inbound else {
            throw FleetError(
                description: "the sandbox posted \(test.number)'s text to \(sent["webhook"]?.stringValue ?? "nobody"), "
                    + "not \(endpoints.inbound)")
        }
        return sent["sid"]?.stringValue ?? ""
    }

    /// Points the account's number's incoming texts at `url` through the sandbox's Twilio API (`SmsUrl`).
    public func pointNumber(_ test: TestAccount, at url: String) async throws {
        try await HTTPClient.withClient { http in
            let sms = SMSClient(
                baseURL: sandbox.twilioBaseURL, accountSid: test.twilioSid, authToken: test.twilioToken, http: http)
            guard let number = try await sms.incomingNumber(test.number) else {
                throw FleetError(description: "\(test.number) is not a number of \(test.twilioSid) in the sandbox")
            }
            try await sms.setInboundWebhook(numberSid: number.sid, url: url)
        }
    }
}
