/// What the plugin has done since the broker loaded it, published retained on `$SYS/broker/cwauth/…`
/// every plugin_opt_sys_interval seconds, as the broker publishes its own `$SYS` topics. They reach
/// only subscribers whose roles may read them: a leading `+` or `#` matches no `$` topic, so that
/// takes a permission on `$SYS/broker/cwauth/#` (or a level of it).
public struct BrokerStats: Sendable, Equatable {
    /// Logins let in, from the cache or after a password check.
    public var authAllowed: UInt64 = 0
    /// Logins refused: wrong password, unknown or disabled user, a client id of another user, none sent.
    public var authDenied: UInt64 = 0
    /// Logins refused by the password throttle without checking the password.
    public var authThrottled: UInt64 = 0
    public var aclAllowed: UInt64 = 0
    public var aclDenied: UInt64 = 0
    /// Registration attempts written to the pending table (new, repeated or conflicting requests).
    public var registryRecorded: UInt64 = 0
    /// Registration attempts not written: rate limits, invalid names, a full table or queue, blocked names.
    public var registryDropped: UInt64 = 0
    /// Snapshots swapped in after a policy change or a reload (the first one is not counted).
    public var rebuilds: UInt64 = 0
    /// Milliseconds from a policy change seen to its snapshot serving, for the last one.
    public var lastBuildMs: UInt64 = 0
    public var rules = 0
    public var users = 0
    /// Seconds since the serving snapshot was swapped in.
    public var lastReloadAgeSeconds: UInt64 = 0

    public init() {}

    public static let topicPrefix = "$SYS/broker/cwauth/"

    /// (topic, payload) pairs, payloads in decimal like Mosquitto's own `$SYS` values.
    public var messages: [(topic: String, payload: String)] {
        [
            ("auth/allowed", authAllowed), ("auth/denied", authDenied), ("auth/throttled", authThrottled),
            ("acl/allowed", aclAllowed), ("acl/denied", aclDenied),
            ("registry/recorded", registryRecorded), ("registry/dropped", registryDropped),
            ("snapshot/rebuilds", rebuilds), ("snapshot/build_ms", lastBuildMs),
            ("snapshot/rules", UInt64(rules)), ("snapshot/users", UInt64(users)),
            ("snapshot/age_seconds", lastReloadAgeSeconds),
        ].map { (Self.topicPrefix + $0.0, String($0.1)) }
    }
}
