import Hummingbird
import NIOCore

/// The ingress' request context: Hummingbird's core storage plus the peer's address (forwarded headers are trusted
/// only from configured proxies) and a body limit at what the providers send.
struct IngressRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    var maxUploadSize: Int { IngressServer.maximumBodyBytes }
}
