import AuthCore
import CMosquitto
#if canImport(Glibc)
import Glibc
#endif

typealias BrokerCallback = @convention(c) (Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32

/// One C callback per broker event, each a few lines of translation.
enum Callbacks {
    /// Event numbers and callbacks to register with this broker.
    static func all(_ generation: BrokerGeneration) -> [(Int32, BrokerCallback)] {
        let common: [(mosquitto_plugin_event, BrokerCallback)] = [
            (MOSQ_EVT_BASIC_AUTH, basicAuth),
            (MOSQ_EVT_ACL_CHECK, aclCheck),
            (MOSQ_EVT_TICK, tick),
            (MOSQ_EVT_MESSAGE, message),
            (MOSQ_EVT_RELOAD, reload),
            (MOSQ_EVT_DISCONNECT, disconnect),
        ]
        let events = common.map { (Int32($0.0.rawValue), $0.1) }
        guard generation == .v2_1 else { return events }
        // 2.1 reports a client going offline with a session kept as CLIENT_OFFLINE instead of DISCONNECT.
        return events + [(Int32(CWAUTH_EVT_CONNECT), connect), (Int32(CWAUTH_EVT_CLIENT_OFFLINE), disconnect)]
    }

    static let basicAuth: BrokerCallback = { _, eventData, userdata in
        guard let eventData, let userdata else { return MOSQ_ERR_AUTH.rawValue }
        let event = eventData.assumingMemoryBound(to: mosquitto_evt_basic_auth.self).pointee
        let client = event.client
        let plugin = PluginInstance.from(userdata)
        let clientId = string(mosquitto_client_id(client))
        let outcome = plugin.core.authenticate(
            username: event.username.map { String(cString: $0) },
            password: event.password.map { String(cString: $0) },
            clientId: clientId,
            address: string(mosquitto_client_address(client)),
            certificate: peerCertificate(client))
        switch outcome.answer {
        case .allow:
            // A certificate login without a username: the broker (kicks, %u, the ACL) knows the
            // client by the certificate's CN from here on.
            if let name = outcome.setUsername, mosquitto_set_username(client, name) != MOSQ_ERR_SUCCESS.rawValue {
                BrokerLog.write(.warning, "could not set the username \(name) for client \(clientId); refusing it")
                return MOSQ_ERR_AUTH.rawValue
            }
            plugin.wills.authenticated(client, clientId: clientId)
            plugin.connects?.authenticated(client)
            return MOSQ_ERR_SUCCESS.rawValue
        case .deny:
            return MOSQ_ERR_AUTH.rawValue
        case .comeBack:
            // Mosquitto 2.0 closes the connection without a CONNACK for any code but success and
            // MOSQ_ERR_AUTH: the client sees a lost connection and reconnects, rather than a refusal.
            return MOSQ_ERR_UNKNOWN.rawValue
        case .later:
            return plugin.delayedAuth?.wait(client, clientId: clientId) ?? MOSQ_ERR_AUTH.rawValue
        }
    }

    /// nil without a certificate (plain listeners, or a TLS one that does not require them).
    static func peerCertificate(_ client: OpaquePointer?) -> PeerCertificate? {
        guard let client else { return nil }
        var cn = [CChar](repeating: 0, count: 1025)
        var digest = [UInt8](repeating: 0, count: 32)
        switch cwauth_peer_certificate(client, &cn, Int32(cn.count), &digest) {
        case 0: return nil
        case 1:
            let name = String(validatingCString: cn) ?? ""
            return name.isEmpty ? .unreadable : .read(commonName: name, sha256: digest)
        default: return .unreadable
        }
    }

    /// The hot path (MOSQ_ACL_READ runs for every message to every subscriber): the broker's C strings
    /// go to AuthCore as they are.
    static let aclCheck: BrokerCallback = { _, eventData, userdata in
        guard let eventData, let userdata else { return MOSQ_ERR_ACL_DENIED.rawValue }
        let event = eventData.assumingMemoryBound(to: mosquitto_evt_acl_check.self).pointee
        guard let topic = event.topic, var access = access(event.access) else { return MOSQ_ERR_ACL_DENIED.rawValue }
        return PluginInstance.with(userdata) { plugin in
            let clientId = mosquitto_client_id(event.client)
            if access == .write && plugin.wills.isWill(event.client, clientId: clientId) { access = .will }
            let allowed = plugin.core.aclCheck(
                username: mosquitto_client_username(event.client),
                clientId: clientId,
                topic: topic,
                access: access)
            return allowed ? MOSQ_ERR_SUCCESS.rawValue : MOSQ_ERR_ACL_DENIED.rawValue
        }
    }

    /// Mosquitto 2.1 wakes its loop for a plugin only when the plugin asks, through `next_s` and
    /// `next_ms`, and then skips the plugin's tick on any pass before that time; a pass woken
    /// earlier by a client re-arms nothing, so the loop sleeps until its next keepalive check (up
    /// to 5 s) and a disabled user stays connected that long. 2.1 adds the two fields separately
    /// for the wake-up (`next_s * 1000 + next_ms`) but compares the seconds first for "due"
    /// (`plugin_tick.c`): seconds in the past and milliseconds that make up the difference keep
    /// every pass due, as in 2.0, and still wake the loop within the probe interval. In 2.0 the
    /// slot of `next_ms` is `next_ns`, and 2.0 reads neither field.
    static let tick: BrokerCallback = { _, eventData, userdata in
        guard let userdata else { return MOSQ_ERR_SUCCESS.rawValue }
        let plugin = PluginInstance.from(userdata)
        if let eventData {
            let event = eventData.assumingMemoryBound(to: mosquitto_evt_tick.self)
            event.pointee.next_s = -10
            event.pointee.next_ns = 10_000 + plugin.core.nextTickMs
        }
        plugin.wills.loopPassed()
        for username in plugin.core.tick() {
            _ = mosquitto_kick_client_by_username(username, false)
        }
        if let delayed = plugin.delayedAuth {
            delayed.answer(plugin.core.takeLateAnswers(), wills: plugin.wills, connects: plugin.connects)
        }
        for (topic, payload) in plugin.core.statsDue() { publishRetained(topic, payload) }
        return MOSQ_ERR_SUCCESS.rawValue
    }

    /// To every subscriber the ACL lets read it, retained like the broker's own `$SYS` values.
    static func publishRetained(_ topic: String, _ payload: String) {
        var payload = payload
        payload.withUTF8 { bytes in
            _ = mosquitto_broker_publish_copy(nil, topic, Int32(bytes.count), bytes.baseAddress, 0, true, nil)
        }
    }

    /// Applies the publish prefix. Mosquitto 2.0 takes the new topic pointer but does not free the
    /// old one, so it is freed here; 2.1 frees it itself. Both belong to the broker's allocator.
    static let message: BrokerCallback = { _, eventData, userdata in
        guard let eventData, let userdata else { return MOSQ_ERR_SUCCESS.rawValue }
        let event = eventData.assumingMemoryBound(to: mosquitto_evt_message.self)
        guard let oldTopic = event.pointee.topic else { return MOSQ_ERR_SUCCESS.rawValue }
        return PluginInstance.with(userdata) { plugin in
            let rewritten = plugin.core.withPublishPrefix(username: mosquitto_client_username(event.pointee.client)) { prefix in
                prefixed(oldTopic, with: prefix)
            }
            guard let newTopic = rewritten ?? nil else { return MOSQ_ERR_SUCCESS.rawValue }
            event.pointee.topic = newTopic
            if plugin.generation == .v2_0 { mosquitto_free(oldTopic) }
            return MOSQ_ERR_SUCCESS.rawValue
        }
    }

    /// `prefix + topic` in memory from mosquitto_malloc, NUL-terminated; nil when out of memory.
    static func prefixed(_ topic: UnsafePointer<CChar>, with prefix: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<CChar>? {
        let topicLength = strlen(topic)
        guard let memory = mosquitto_malloc(prefix.count + topicLength + 1) else { return nil }
        if let base = prefix.baseAddress { memcpy(memory, base, prefix.count) }
        memcpy(memory + prefix.count, topic, topicLength + 1)
        return memory.assumingMemoryBound(to: CChar.self)
    }

    /// Mosquitto 2.1 only, after the CONNACK: a client that skipped BASIC_AUTH and presents a
    /// certificate is disconnected unless cwauth issued that certificate (see `UnauthenticatedConnects`).
    static let connect: BrokerCallback = { _, eventData, userdata in
        guard let eventData, let userdata else { return MOSQ_ERR_SUCCESS.rawValue }
        let client = eventData.assumingMemoryBound(to: cwauth_evt_connect.self).pointee.client
        let plugin = PluginInstance.from(userdata)
        guard let connects = plugin.connects, !connects.connectedAfterBasicAuth(client),
              let certificate = peerCertificate(client) else { return MOSQ_ERR_SUCCESS.rawValue }
        let clientId = string(mosquitto_client_id(client))
        let admitted = plugin.core.admitsUnauthenticated(
            username: mosquitto_client_username(client).map { String(cString: $0) },
            clientId: clientId, address: string(mosquitto_client_address(client)), certificate: certificate)
        if !admitted {
            BrokerLog.write(.notice, "disconnecting client \(clientId): it connected without plugin authentication and "
                            + "its certificate is not one cwauth issued to an enabled certificate user")
            _ = mosquitto_kick_client_by_clientid(clientId, false)
        }
        return MOSQ_ERR_SUCCESS.rawValue
    }

    /// Comes before the client's will is checked and sent (see `Wills`). Also MOSQ_EVT_CLIENT_OFFLINE
    /// on 2.1, whose data has the same layout.
    static let disconnect: BrokerCallback = { _, eventData, userdata in
        guard let eventData, let userdata else { return MOSQ_ERR_SUCCESS.rawValue }
        let client = eventData.assumingMemoryBound(to: mosquitto_evt_disconnect.self).pointee.client
        let plugin = PluginInstance.from(userdata)
        plugin.connects?.gone(client)
        if plugin.core.hasPublishPrefix(username: mosquitto_client_username(client)) { plugin.wills.disconnected(client) }
        return MOSQ_ERR_SUCCESS.rawValue
    }

    static let reload: BrokerCallback = { _, eventData, userdata in
        guard let userdata else { return MOSQ_ERR_SUCCESS.rawValue }
        let core = PluginInstance.from(userdata).core
        var options: PluginOptions?
        // Mosquitto 2.0 hands no options with a reload (NULL, 0): the options of the start stay.
        if let event = eventData?.assumingMemoryBound(to: mosquitto_evt_reload.self).pointee,
           event.options != nil, event.option_count > 0 {
            do {
                options = try PluginOptions.parse(BrokerOptions.pairs(event.options, event.option_count))
            } catch {
                BrokerLog.write(.error, "reload: \(error); keeping the previous options")
            }
        }
        for username in core.reload(options: options) {
            _ = mosquitto_kick_client_by_username(username, false)
        }
        return MOSQ_ERR_SUCCESS.rawValue
    }

    static func access(_ raw: Int32) -> BrokerAccess? {
        switch raw {
        case MOSQ_ACL_READ: return .read
        case MOSQ_ACL_WRITE: return .write
        case MOSQ_ACL_SUBSCRIBE: return .subscribe
        case MOSQ_ACL_UNSUBSCRIBE: return .unsubscribe
        default: return nil
        }
    }

    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}
