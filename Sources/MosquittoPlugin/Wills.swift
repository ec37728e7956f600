import Synchronization

/// Tells a Last Will's ACL check from a publish's. Mosquitto 2.0 checks a will (MOSQ_ACL_WRITE)
/// only when it is about to publish it, and publishes it without MOSQ_EVT_MESSAGE, so the publish
/// prefix cannot be applied to it: the check must be on the bare topic. A will is sent
/// - after MOSQ_EVT_DISCONNECT for the client, at once or after its will delay, and
/// - when a new connection takes the client id over, right after that connection's BASIC_AUTH,
///   in the same pass of the broker's loop, for the old client.
/// Only disconnected clients of users with a publish prefix are kept: for the others a will and a
/// publish are checked alike.
final class Wills: Sendable {
    struct State {
        /// Clients (broker pointers) past MOSQ_EVT_DISCONNECT; a pointer leaves at its next BASIC_AUTH
        /// (a new client at the same address authenticates before anything else).
        var disconnected: Set<UInt> = []
        /// The client id authenticated in this loop pass, and its client: an older client with that id
        /// is being taken over.
        var takeover: (id: String, client: UInt)?
    }

    private let state = Mutex(State())
    /// Whether there is anything to look up: publishes, checked on every message, skip the lock then.
    private let active = Atomic(false)

    func authenticated(_ client: OpaquePointer?, clientId: String) {
        let key = ClientKey.of(client)
        state.withLock { state in
            state.disconnected.remove(key)
            state.takeover = (clientId, key)
            active.store(true, ordering: .relaxed)
        }
    }

    func disconnected(_ client: OpaquePointer?) {
        state.withLock { state in
            state.disconnected.insert(ClientKey.of(client))
            active.store(true, ordering: .relaxed)
        }
    }

    /// A new pass of the broker's loop: no connection is being taken over any more.
    func loopPassed() {
        guard active.load(ordering: .relaxed) else { return }
        state.withLock { state in
            state.takeover = nil
            active.store(!state.disconnected.isEmpty, ordering: .relaxed)
        }
    }

    func isWill(_ client: OpaquePointer?, clientId: UnsafePointer<CChar>?) -> Bool {
        guard active.load(ordering: .relaxed) else { return false }
        let key = ClientKey.of(client)
        return state.withLock { state in
            if state.disconnected.contains(key) { return true }
            guard let takeover = state.takeover, takeover.client != key, let clientId else { return false }
            return takeover.id == String(cString: clientId)
        }
    }

}
