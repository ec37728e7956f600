import Synchronization

/// Mosquitto 2.1 tells the plugin when a client is connected (MOSQ_EVT_CONNECT, right after its
/// CONNACK). A client that got there without BASIC_AUTH came through a TLS listener that takes the
/// username from the certificate (`use_identity_as_username`, `use_subject_as_username`) and skips
/// plugin authentication, or through another plugin's extended authentication; with a certificate,
/// cwauth checks it then (`BrokerCore.admitsUnauthenticated`). 2.0 has no such event.
///
/// A client is marked from its allowed BASIC_AUTH to its MOSQ_EVT_CONNECT, in the same call of the
/// broker (or, for a delayed answer, around `mosquitto_complete_basic_auth`), and unmarked when it
/// goes (MOSQ_EVT_DISCONNECT or MOSQ_EVT_CLIENT_OFFLINE: one of them comes for every connection
/// that is not waiting for a delayed answer). So a mark never outlives its connection, and a new
/// client at a freed address is never taken for an authenticated one.
final class UnauthenticatedConnects: Sendable {
    /// Broker pointers as numbers, never dereferenced.
    private let authenticated = Mutex<Set<UInt>>([])

    func authenticated(_ client: OpaquePointer?) {
        authenticated.withLock { _ = $0.insert(ClientKey.of(client)) }
    }

    func gone(_ client: OpaquePointer?) {
        authenticated.withLock { _ = $0.remove(ClientKey.of(client)) }
    }

    /// MOSQ_EVT_CONNECT: whether the client went through BASIC_AUTH (and is unmarked either way).
    func connectedAfterBasicAuth(_ client: OpaquePointer?) -> Bool {
        authenticated.withLock { $0.remove(ClientKey.of(client)) != nil }
    }

}
