import AuthCore
import CMosquitto
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Mosquitto 2.1 can hold a CONNECT until the plugin answers: BASIC_AUTH returns
/// MOSQ_ERR_AUTH_DELAYED and the plugin later calls `mosquitto_complete_basic_auth` on the broker's
/// thread. 2.0 has neither (see `BrokerGeneration`).
final class DelayedAuth: Sendable {
    typealias Complete = @convention(c) (UnsafePointer<CChar>?, Int32) -> Void

    /// MOSQ_ERR_AUTH_DELAYED in 2.1's `mosquitto/defs.h`; 2.0's headers do not have it.
    static let delayedCode: Int32 = -5

    private let complete: Complete
    /// Clients waiting, by client id (broker pointers as numbers, never dereferenced): an allowed
    /// one is announced to `Wills` as a login would be, in the pass that completes it.
    private let waiting = Mutex<[String: UInt]>([:])

    private init(complete: Complete) {
        self.complete = complete
    }

    /// nil on Mosquitto 2.0: the function is looked up in the broker process (RTLD_DEFAULT).
    static func offeredByBroker() -> DelayedAuth? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mosquitto_complete_basic_auth") else { return nil }
        return DelayedAuth(complete: unsafeBitCast(symbol, to: Complete.self))
    }

    func wait(_ client: OpaquePointer?, clientId: String) -> Int32 {
        waiting.withLock { $0[clientId] = ClientKey.of(client) }
        return Self.delayedCode
    }

    /// On the broker's thread (the tick): Mosquitto ignores ids that are no longer waiting.
    /// The broker connects an allowed client inside `mosquitto_complete_basic_auth` (MOSQ_EVT_CONNECT
    /// included), so the client is marked authenticated for that call only: one that left while it
    /// waited is never marked.
    func answer(_ answers: [LateAnswer], wills: Wills, connects: UnauthenticatedConnects?) {
        for answer in answers {
            let key = waiting.withLock { $0.removeValue(forKey: answer.clientId) }
            let client = key.flatMap(ClientKey.client)
            if answer.allowed, let client {
                wills.authenticated(client, clientId: answer.clientId)
                connects?.authenticated(client)
            }
            answer.clientId.withCString { complete($0, answer.allowed ? MOSQ_ERR_SUCCESS.rawValue : MOSQ_ERR_AUTH.rawValue) }
            if let client { connects?.gone(client) }
        }
    }
}
