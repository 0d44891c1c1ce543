/// Which OAuth scope a sandbox Gorgias call needs (Gorgias' scope page describes them by resource: customers,
/// tickets with their messages and attachments, integrations, the account). The contract's `scope` entries
/// (contracts/gorgias/operations.json) say the same; a contract test keeps the two equal.
enum GorgiasScopes {
    /// The scope `method path` (the part after `/api/`) needs; nil for a call the sandbox does not scope.
    static func required(_ method: String, _ path: [String]) -> String? {
        let access = method == "GET" ? "read" : "write"
        switch path.first {
        case "customers": return "customers:\(access)"
        case "tickets", "messages", "upload": return "tickets:\(access)"
        case "integrations": return "integrations:\(access)"
        case "account": return "account:\(access)"
        case "users": return "users:\(access)"
        default: return nil
        }
    }

    /// The scopes Gorgias' scope page lists (`write:all` is deprecated and refused to a new app).
    static let documented: Set<String> = [
        "openid", "email", "profile", "offline", "account:read", "account:write", "users:read", "users:write",
        "customers:read", "customers:write", "tickets:read", "tickets:write", "custom_fields:read",
        "custom_fields:write", "events:read", "events:write", "integrations:read", "integrations:write", "jobs:read",
        "jobs:write", "macros:read", "macros:write", "rules:read", "rules:write", "satisfaction_survey:read",
        "satisfaction_survey:write", "statistics:read", "tags:read", "tags:write", "apps:read", "apps:write",
    ]
}
