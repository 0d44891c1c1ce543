import Foundation
import HTTPTypes
import Hummingbird

/// Whether a state-changing request comes from a page of the same origin: the browser's `Sec-Fetch-Site` says
/// `same-origin`, or its `Origin` names the host the request was sent to. A request with neither is not a
/// browser's form post and is refused too; only a bearer-token client (which carries no cookie) may post without
/// them.
public enum SameOrigin {
    public static func check(_ request: Request) -> Bool {
        if let site = request.headers[.secFetchSite] { return site == "same-origin" }
        guard let origin = request.headers[.origin], let host = request.head.authority ?? request.headers[.host],
            let components = URLComponents(string: origin), let originHost = components.host
        else { return false }
        let authority = components.port.map { "\(originHost):\($0)" } ?? originHost
        return authority.lowercased() == host.lowercased()
    }
}

extension HTTPField.Name {
    static let host = Self("Host")!
}
