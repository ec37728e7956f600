import Hummingbird
import NIOCore

/// Per-request context: Hummingbird's core storage plus the client's address, which the login
/// throttle and the registry record use. Empty when there is no socket (Hummingbird's router tests).
public struct ServerContext: RequestContext, Sendable {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? ""
    }

    /// Request bodies are small JSON objects; refuse anything bigger before reading it.
    public var maxUploadSize: Int { JSONBody.maxBytes }
}
