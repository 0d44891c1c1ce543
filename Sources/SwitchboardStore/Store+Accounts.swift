import Foundation
import SwitchboardDomain

/// Accounts: connection details, settings and sealed credentials.
extension Store {
    /// Adds a new account; a duplicate id is a `constraint` error.
    public func createAccount(_ account: Account) async throws {
        let existing = try await self.account(id: account.id)
        guard existing == nil else { throw StoreError(.constraint, "account \(account.id) already exists") }
        let row = try Self.columns(account)
        try await database.query(
            "INSERT INTO accounts (\(Self.columnList)) VALUES (\(Array(repeating: "?", count: row.count).joined(separator: ", ")))",
            row
        )
    }

    /// Replaces an account's stored fields (settings, credentials, status…).
    public func updateAccount(_ account: Account) async throws {
        var row = try Self.columns(account)
        let id = row.removeFirst()
        let assignments = Self.columnNames.dropFirst().map { "\($0) = ?" }.joined(separator: ", ")
        let updated = try await database.query(
            "UPDATE accounts SET \(assignments) WHERE id = ? RETURNING id", row + [id])
        guard !updated.isEmpty else { throw StoreError(.notFound, "no account \(account.id)") }
    }

    public func account(id: String) async throws -> Account? {
        try await database.query("SELECT \(Self.columnList) FROM accounts WHERE id = ?", id).first.map(Self.account)
    }

    public func accounts() async throws -> [Account] {
        try await database.query("SELECT \(Self.columnList) FROM accounts ORDER BY id", []).map(Self.account)
    }

    /// Connects or disconnects an account; returns false when it does not exist.
    @discardableResult
    public func setAccountStatus(id: String, _ status: Account.Status, at: Date = Date()) async throws -> Bool {
        !(try await database.query(
            "UPDATE accounts SET status = ?, updated_at = ? WHERE id = ? RETURNING id", status.rawValue, at.millis, id
        )).isEmpty
    }

    private static let columnNames = [
        "id", "status", "gorgias_base_url", "gorgias_auth_kind", "gorgias_email", "sms_base_url", "sms_account_sid",
        "sms_from", "sms_messaging_service_sid", "settings", "credentials", "gorgias_integration_id", "created_at",
        "updated_at",
    ]
    private static var columnList: String { columnNames.joined(separator: ", ") }

    private static func columns(_ account: Account) throws -> [SQLValue] {
        let settings = String(decoding: try JSONEncoder().encode(account.settings), as: UTF8.self)
        var from: String?
        var service: String?
        switch account.smsSender {
        case .number(let number): from = number
        case .messagingService(let sid): service = sid
        }
        return [
            .text(account.id), .text(account.status.rawValue), .text(account.gorgiasBaseURL),
            .text(account.gorgiasAuthKind.rawValue),
            account.gorgiasEmail.sqlValue, .text(account.smsBaseURL), .text(account.smsAccountSid), from.sqlValue,
            service.sqlValue,
            .text(settings), .text(account.sealedCredentials), account.gorgiasIntegrationId.sqlValue,
            .integer(account.createdAt.millis), .integer(account.updatedAt.millis),
        ]
    }

    private static func account(_ row: SQLRow) throws -> Account {
        guard let settingsText = row["settings"].text,
            let settings = try? JSONDecoder().decode(AccountSettings.self, from: Data(settingsText.utf8))
        else { throw StoreError(.invalidData, "account \(row["id"].text ?? "?") has unreadable settings") }
        let sender: Account.SMSSender =
            row["sms_messaging_service_sid"].text.map { .messagingService($0) } ?? .number(row["sms_from"].text ?? "")
        return Account(
            id: row["id"].text ?? "",
            status: Account.Status(rawValue: row["status"].text ?? "") ?? .disconnected,
            gorgiasBaseURL: row["gorgias_base_url"].text ?? "",
            gorgiasAuthKind: Account.GorgiasAuthKind(rawValue: row["gorgias_auth_kind"].text ?? "") ?? .apiKey,
            gorgiasEmail: row["gorgias_email"].text,
            smsBaseURL: row["sms_base_url"].text ?? "",
            smsAccountSid: row["sms_account_sid"].text ?? "",
            smsSender: sender,
            settings: settings,
            sealedCredentials: row["credentials"].text ?? "",
            gorgiasIntegrationId: row["gorgias_integration_id"].int,
            createdAt: Date(millis: row["created_at"].int ?? 0),
            updatedAt: Date(millis: row["updated_at"].int ?? 0)
        )
    }
}
