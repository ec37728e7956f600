#if canImport(Glibc)
import Glibc
#endif

/// Which Mosquitto loaded the plugin. 2.1 keeps plugin API v5 but changes a few of its rules; the
/// plugin tells the two apart at run time by a function only 2.1 exports, so one build serves both.
enum BrokerGeneration: Sendable {
    /// 2.0: ticks on every loop pass; does not free a topic replaced in MOSQ_EVT_MESSAGE.
    case v2_0
    /// 2.1: ticks when the plugin asks; frees a replaced topic itself; can hold a CONNECT until the
    /// plugin answers (MOSQ_ERR_AUTH_DELAYED, `mosquitto_complete_basic_auth`).
    case v2_1

    static func ofThisBroker() -> BrokerGeneration {
        symbol("mosquitto_complete_basic_auth") == nil ? .v2_0 : .v2_1
    }

    /// A function of the broker process, or nil.
    static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)  // RTLD_DEFAULT
    }
}
