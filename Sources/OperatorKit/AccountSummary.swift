import Foundation
import SwitchboardDomain

/// What the CLI shows of an account: everything but the secrets.
public struct AccountSummary: Codable {
    public var id: String
    public var status: String
    public var gorgiasBaseURL: String
    public var gorgiasAuth: String
    public var gorgiasEmail: String?
    public var smsBaseURL: String
    public var smsAccountSid: String
    public var smsFrom: String?
    public var smsMessagingServiceSid: String?
    public var settings: AccountSettings
    public var gorgiasIntegrationId: Int64?
    /// The merchant health checks' last results (empty until the StatusWorker has checked it).
    public var health: [AccountHealth]
    public var createdAt: Date
    public var updatedAt: Date

    public init(_ account: Account, health: [AccountHealth] = []) {
        id = account.id
        status = account.status.rawValue
        gorgiasBaseURL = account.gorgiasBaseURL
        gorgiasAuth = account.gorgiasAuthKind.rawValue
        gorgiasEmail = account.gorgiasEmail
        smsBaseURL = account.smsBaseURL
        smsAccountSid = account.smsAccountSid
        switch account.smsSender {
        case .number(let number): smsFrom = number
        case .messagingService(let sid): smsMessagingServiceSid = sid
        }
        settings = account.settings
        gorgiasIntegrationId = account.gorgiasIntegrationId
        self.health = health
        createdAt = account.createdAt
        updatedAt = account.updatedAt
    }

    public var sender: String { smsFrom ?? smsMessagingServiceSid.map { "service \($0)" } ?? "-" }

    /// `ok`, the failing checks by name, or `-` before any check.
    public var healthSummary: String {
        guard !health.isEmpty else { return "-" }
        let failing = health.filter { !$0.healthy }.map(\.check)
        return failing.isEmpty ? "ok" : "failing: " + failing.joined(separator: ", ")
    }
}
