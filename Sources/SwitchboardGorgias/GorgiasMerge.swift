import Foundation
import SwitchboardHTTP

/// A call that Gorgias redirected from a merged ticket or customer to the one that remains
/// (contracts/gorgias/operations.json, "merged"): what the conversation that pointed at the old one follows.
public enum GorgiasMerge: Sendable, Hashable {
    case ticket(from: Int64, to: Int64)
    case customer(from: Int64, to: Int64)

    /// The merge a redirect from `from` to `to` shows: both `/api/tickets/{id}…` (or both customers) with
    /// different ids.
    init?(from: String, to: String) {
        guard let old = Self.object(Redirect.path(from) ?? ""), let new = Self.object(Redirect.path(to) ?? ""),
            old.kind == new.kind, old.id != new.id
        else { return nil }
        self = old.kind == "tickets" ? .ticket(from: old.id, to: new.id) : .customer(from: old.id, to: new.id)
    }

    private static func object(_ path: String) -> (kind: String, id: Int64)? {
        let parts = path.split(separator: "/")
        guard let api = parts.firstIndex(of: "api"), parts.count > api + 2,
            ["tickets", "customers"].contains(parts[api + 1]), let id = Int64(parts[api + 2])
        else { return nil }
        return (String(parts[api + 1]), id)
    }
}

/// Gorgias refused the HTTP integration Switchboard registers, or did not keep its triggers: agents' replies would
/// never reach Switchboard. Connect reports it.
public struct IntegrationRefused: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { reason }
}
