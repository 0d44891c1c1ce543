import Foundation
import SwitchboardDomain

extension Account {
    /// Opens the account's credentials.
    public func credentials(_ box: SecretBox) throws -> AccountCredentials {
        try JSONDecoder().decode(AccountCredentials.self, from: box.open(sealedCredentials))
    }
}

extension AccountCredentials {
    /// Seals these credentials for storage.
    public func sealed(_ box: SecretBox) throws -> String {
        try box.seal(JSONEncoder().encode(self))
    }
}
