/// Which Mosquitto loaded the plugin. 2.1 keeps plugin API v5 but changes a few of its rules; the
/// plugin tells the two apart at run time by `mosquitto_complete_basic_auth`, a function only 2.1
/// exports (`DelayedAuth.offeredByBroker`), so one build serves both.
enum BrokerGeneration: Sendable {
    /// 2.0: ticks on every loop pass; does not free a topic replaced in MOSQ_EVT_MESSAGE.
    case v2_0
    /// 2.1: ticks when the plugin asks; frees a replaced topic itself; can hold a CONNECT until the
    /// plugin answers (MOSQ_ERR_AUTH_DELAYED, `mosquitto_complete_basic_auth`); reports every connect
    /// (MOSQ_EVT_CONNECT), also of clients a listener let in without plugin authentication.
    case v2_1

    init(delayedAuth: DelayedAuth?) {
        self = delayedAuth == nil ? .v2_0 : .v2_1
    }
}
