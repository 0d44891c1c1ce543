import Foundation

/// The providers' published contracts kept in `contracts/`, and what an exchange with the sandbox (or a request a
/// client builds) does that they do not allow.
public struct ProviderContracts: Sendable {
    public let gorgias: GorgiasContract
    public let twilio: TwilioContract

    /// Reads `contracts/` at `folder`.
    public init(folder: URL) throws {
        gorgias = try GorgiasContract(folder: folder.appendingPathComponent("gorgias"))
        twilio = try TwilioContract(folder: folder.appendingPathComponent("twilio"))
    }

    /// The repository's own `contracts/`, read once per process.
    public static func repository() throws -> ProviderContracts { try loaded.get() }

    private static let loaded = Result { try ProviderContracts(folder: folder) }

    /// `contracts/` beside `Sources/`.
    public static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("contracts")

    /// Everything `exchange` does that its provider's contract does not allow.
    public func drifts(_ exchange: ContractExchange) -> [ContractDrift] {
        let problems =
            switch exchange.api {
            case .gorgias: gorgias.drifts(exchange)
            case .twilio, .twilioMessaging: twilio.drifts(exchange)
            }
        return problems.map { ContractDrift(exchange: exchange.summary, problem: $0) }
    }

    /// Everything a webhook the sandbox sent does that the provider's documents do not describe.
    public func drifts(_ webhook: ContractWebhook) -> [ContractDrift] {
        twilio.drifts(webhook).map { ContractDrift(exchange: webhook.kind.rawValue, problem: $0) }
    }
}
