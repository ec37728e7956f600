/// Every `plugin_opt_*` the broker plugin understands, parsed and checked in one place.
public struct PluginOptions: Sendable, Equatable {
    /// plugin_opt_database (required): path of the cwauth SQLite file. The spec's name `plugin_opt_db` is
    /// accepted too, but Mosquitto 2.0.11's config parser rejects option names shorter than three
    /// characters ("Invalid auth_opt_ config option"), so configs for 2.0.x must say `plugin_opt_database`.
    public var databasePath: String
    /// plugin_opt_registry on|off (default on): record unknown users while the window is open.
    public var registryEnabled = true
    /// plugin_opt_auth_cache_seconds (default 300, 0 disables): how long a successful password check is remembered.
    public var authCacheSeconds = 300
    /// plugin_opt_registry_max_pending (default 1000): cap on pending registration rows.
    public var maxPending = Store.defaultMaxPending
    /// plugin_opt_registry_rate (default 20, 1–100): registration attempts recorded per second at most,
    /// overall, refilled smoothly. Each costs the registry writer one password hash.
    public var registryRatePerSecond = RegistryGate.Limits.defaultPerSecond
    /// plugin_opt_hash_budget_ms (default 100, 0–1000): milliseconds per second (and at once) the
    /// broker's thread may spend verifying passwords that are not in the login cache. Past it, a
    /// password is verified on a thread of the plugin's own while the client is disconnected
    /// without an answer; its reconnect is answered from the cache. 1000: always on the broker's thread.
    public var hashBudgetMs = 100
    /// plugin_opt_reload_interval_ms (default 250, 50–1000): how often the store's change counter is probed.
    public var probeIntervalMs = 250
    /// plugin_opt_log_denials on|off (default on): one debug line per denied ACL check, with the reason.
    /// Off spares the String work a denial costs when a broker denies thousands of deliveries a second.
    public var logDenials = true
    /// plugin_opt_sys_interval (default 10, 0–86400, 0 off): seconds between two publications of the
    /// plugin's counters on `$SYS/broker/cwauth/…` (`BrokerStats`). A plugin cannot read the broker's
    /// own `sys_interval`, so this is its twin, with the broker's default.
    public var sysIntervalSeconds = 10
    /// Policies at least this large (rules + users of the current snapshot) are rebuilt on a thread of
    /// their own, so the broker's loop never waits seconds for a million rules; smaller ones (a few
    /// milliseconds) are rebuilt in place. Not a broker option: tests set it to exercise both paths.
    public var backgroundBuildSize = 50_000

    public init(databasePath: String) {
        self.databasePath = databasePath
    }

    public enum Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        case missing(String)
        case invalid(name: String, value: String, expected: String)
        case unknown(String)

        public var description: String {
            switch self {
            case let .missing(name): return "plugin_opt_\(name) is required (path of the cwauth database)"
            case let .invalid(name, value, expected): return "plugin_opt_\(name) \"\(value)\" is invalid: expected \(expected)"
            case let .unknown(name): return "unknown option plugin_opt_\(name)"
            }
        }
    }

    /// `pairs` are the option names without the `plugin_opt_` prefix, as Mosquitto hands them over.
    public static func parse(_ pairs: [(String, String)]) throws(Error) -> PluginOptions {
        var options = PluginOptions(databasePath: "")
        for (key, value) in pairs {
            switch key {
            case "database", "db": options.databasePath = value
            case "registry": options.registryEnabled = try flag(key, value)
            case "log_denials": options.logDenials = try flag(key, value)
            case "auth_cache_seconds": options.authCacheSeconds = try integer(key, value, 0...86_400)
            case "registry_max_pending": options.maxPending = try integer(key, value, 0...1_000_000)
            case "registry_rate": options.registryRatePerSecond = try integer(key, value, 1...100)
            case "hash_budget_ms": options.hashBudgetMs = try integer(key, value, 0...1000)
            case "reload_interval_ms": options.probeIntervalMs = try integer(key, value, 50...1000)
            case "sys_interval": options.sysIntervalSeconds = try integer(key, value, 0...86_400)
            default: throw .unknown(key)
            }
        }
        if options.databasePath.isEmpty { throw .missing("database") }
        return options
    }

    private static func flag(_ key: String, _ value: String) throws(Error) -> Bool {
        switch value.lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: throw .invalid(name: key, value: value, expected: "on or off")
        }
    }

    private static func integer(_ key: String, _ value: String, _ range: ClosedRange<Int>) throws(Error) -> Int {
        guard let n = Int(value), range.contains(n) else {
            throw .invalid(name: key, value: value, expected: "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }
}
