/// A contract's path with `{name}` segments (`/api/tickets/{id}/messages`), matched segment by segment.
struct PathTemplate: Sendable, Hashable {
    let text: String
    private let segments: [Segment]

    private enum Segment: Sendable, Hashable {
        case literal(String)
        /// `{id}` alone, or with a fixed suffix (`{Sid}.json`).
        case parameter(suffix: String)
    }

    init(_ text: String) {
        self.text = text
        segments = text.split(separator: "/", omittingEmptySubsequences: true).map { part in
            guard part.hasPrefix("{"), let close = part.firstIndex(of: "}") else { return .literal(String(part)) }
            return .parameter(suffix: String(part[part.index(after: close)...]))
        }
    }

    /// Whether `path` (no query) fits the template; a parameter takes one non-empty segment.
    func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count == segments.count else { return false }
        return zip(parts, segments).allSatisfy { part, segment in
            switch segment {
            case .literal(let text): part == text
            case .parameter(let suffix): part.hasSuffix(suffix) && part.count > suffix.count
            }
        }
    }

    /// How specific the template is (literal segments count more), so `/Messages/{Sid}.json` wins over a looser one.
    var specificity: Int {
        segments.reduce(0) {
            switch $1 {
            case .literal: $0 + 2
            case .parameter(let suffix): $0 + (suffix.isEmpty ? 0 : 1)
            }
        }
    }
}
