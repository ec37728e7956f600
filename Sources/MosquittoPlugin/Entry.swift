import AuthCore
import CMosquitto

/// Mosquitto plugin API v5 entry points. Everything here translates between C and AuthCore;
/// the decisions live in `BrokerCore`.

@_cdecl("mosquitto_plugin_version")
public func mosquitto_plugin_version(_ count: Int32, _ versions: UnsafePointer<Int32>?) -> Int32 {
    guard let versions else { return -1 }
    for i in 0..<Int(count) where versions[i] == 5 { return 5 }
    BrokerLog.write(.error, "this broker does not offer plugin API v5 (Mosquitto 2.x is required)")
    return -1
}

@_cdecl("mosquitto_plugin_init")
public func mosquitto_plugin_init(_ identifier: OpaquePointer?, _ userdata: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                  _ options: UnsafeMutablePointer<mosquitto_opt>?, _ optionCount: Int32) -> Int32 {
    guard let identifier, let userdata else { return MOSQ_ERR_INVAL.rawValue }
    let parsed: PluginOptions
    do {
        parsed = try PluginOptions.parse(BrokerOptions.pairs(options, optionCount))
    } catch {
        BrokerLog.write(.error, "\(error.description); refusing to start")
        return MOSQ_ERR_INVAL.rawValue
    }
    let core: BrokerCore
    let delayedAuth = DelayedAuth.offeredByBroker()
    do {
        core = try BrokerCore(options: parsed, log: BrokerLog.write, answersLater: delayedAuth != nil)
    } catch {
        BrokerLog.write(.error, "\(error.description); refusing to start without the database")
        return MOSQ_ERR_UNKNOWN.rawValue
    }
    BrokerLog.write(.notice, delayedAuth != nil
        ? "passwords past the hash budget are verified beside the broker's thread while the broker holds the CONNECT (Mosquitto 2.1 delayed auth)"
        : "passwords past the hash budget are verified beside the broker's thread and the client is asked to reconnect (Mosquitto 2.0)")
    let plugin = PluginInstance(core: core, identifier: identifier, delayedAuth: delayedAuth)
    BrokerLog.write(.notice, plugin.generation == .v2_1
        ? "certificates of clients a listener connects without plugin authentication are checked as they connect (Mosquitto 2.1)"
        : "a listener with use_identity_as_username admits every certificate its cafile accepts (Mosquitto 2.0 asks no plugin): do not set it")
    for (event, callback) in Callbacks.all(plugin.generation) {
        let rc = mosquitto_callback_register(identifier, event, callback, nil, plugin.pointer)
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            BrokerLog.write(.error, "could not register callback for event \(event) (error \(rc))")
            plugin.unregister()
            plugin.release()
            return rc
        }
    }
    userdata.pointee = plugin.pointer
    return MOSQ_ERR_SUCCESS.rawValue
}

@_cdecl("mosquitto_plugin_cleanup")
public func mosquitto_plugin_cleanup(_ userdata: UnsafeMutableRawPointer?, _ options: UnsafeMutablePointer<mosquitto_opt>?,
                                     _ optionCount: Int32) -> Int32 {
    guard let userdata else { return MOSQ_ERR_SUCCESS.rawValue }
    let plugin = PluginInstance.from(userdata)
    plugin.unregister()
    plugin.release()
    return MOSQ_ERR_SUCCESS.rawValue
}

/// What the broker hands back to every callback as `userdata`.
final class PluginInstance {
    let core: BrokerCore
    let identifier: OpaquePointer
    let wills = Wills()
    let generation: BrokerGeneration
    let delayedAuth: DelayedAuth?
    /// 2.1 only (MOSQ_EVT_CONNECT).
    let connects: UnauthenticatedConnects?

    init(core: BrokerCore, identifier: OpaquePointer, delayedAuth: DelayedAuth?) {
        self.core = core
        self.identifier = identifier
        self.generation = BrokerGeneration(delayedAuth: delayedAuth)
        self.delayedAuth = delayedAuth
        self.connects = generation == .v2_1 ? UnauthenticatedConnects() : nil
    }

    /// Retained until `release()`: the broker holds the only reference between init and cleanup.
    lazy var pointer: UnsafeMutableRawPointer = Unmanaged.passRetained(self).toOpaque()

    static func from(_ pointer: UnsafeMutableRawPointer) -> PluginInstance {
        Unmanaged<PluginInstance>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// `body` on the instance without a reference of its own (a retain and a release on every
    /// message): the broker's reference lasts until cleanup, after the last callback.
    @inline(__always)
    static func with<R>(_ pointer: UnsafeMutableRawPointer, _ body: (PluginInstance) -> R) -> R {
        Unmanaged<PluginInstance>.fromOpaque(pointer)._withUnsafeGuaranteedRef(body)
    }

    func unregister() {
        for (event, callback) in Callbacks.all(generation) {
            _ = mosquitto_callback_unregister(identifier, event, callback, nil)
        }
    }

    func release() {
        Unmanaged<PluginInstance>.fromOpaque(pointer).release()
    }
}

enum BrokerOptions {
    static func pairs(_ options: UnsafeMutablePointer<mosquitto_opt>?, _ count: Int32) -> [(String, String)] {
        guard let options else { return [] }
        return (0..<Int(count)).compactMap { i in
            guard let key = options[i].key else { return nil }
            return (String(cString: key), options[i].value.map { String(cString: $0) } ?? "")
        }
    }
}

enum BrokerLog {
    @Sendable static func write(_ level: LogLevel, _ message: String) {
        let mosqLevel: Int32
        switch level {
        case .debug: mosqLevel = MOSQ_LOG_DEBUG
        case .info: mosqLevel = MOSQ_LOG_INFO
        case .notice: mosqLevel = MOSQ_LOG_NOTICE
        case .warning: mosqLevel = MOSQ_LOG_WARNING
        case .error: mosqLevel = MOSQ_LOG_ERR
        }
        cwauth_log(mosqLevel, message)
    }
}
