import AuthCore

/// Everything the routes share: the store connection, sessions, throttles and the verification cache.
public final class ServerState: Sendable {
    public struct Options: Sendable {
        /// Failed password checks allowed per username and per address within the window.
        public var loginMaxFailures: Int
        public var loginWindowSeconds: UInt64
        /// The cap on pending registrations, as in the broker.
        public var maxPending: Int
        /// Minimum time between two recorded registration attempts of the same username (nanoseconds).
        public var registerPerUsernameIntervalNanos: UInt64
        /// Registration attempts that may hash a password, per second across all usernames.
        public var registerPerSecond: Int
        /// Peers whose X-Forwarded-For is believed (`--trusted-proxy`): IP addresses, any spelling.
        public var trustedProxies: [String]
        /// `--tls-cert` / `--tls-key`: serve HTTPS, and the session cookie is `Secure`.
        public var tls: ServerTLS?
        /// `--metrics-token-file`: a bearer token good for GET /metrics only (Prometheus' credentials_file).
        public var metricsToken: String?

        /// The registration limits default to the broker's (RegistryGate), so both doors admit the same rate.
        public init(loginMaxFailures: Int = 5, loginWindowSeconds: UInt64 = 300, maxPending: Int = Store.defaultMaxPending,
                    registerPerUsernameIntervalNanos: UInt64 = RegistryGate.Limits().perUsernameIntervalNanos,
                    registerPerSecond: Int = RegistryGate.Limits().perSecond, trustedProxies: [String] = [],
                    tls: ServerTLS? = nil, metricsToken: String? = nil) {
            self.loginMaxFailures = loginMaxFailures
            self.loginWindowSeconds = loginWindowSeconds
            self.maxPending = maxPending
            self.registerPerUsernameIntervalNanos = registerPerUsernameIntervalNanos
            self.registerPerSecond = registerPerSecond
            self.trustedProxies = trustedProxies
            self.tls = tls
            self.metricsToken = metricsToken
        }
    }

    public let databasePath: String
    let options: Options
    let store: StoreService
    let sessions = Sessions()
    let throttle: LoginThrottle
    let credentials = CredentialCache()
    let registrationGate: RegistrationGateService
    let metrics: ServerMetrics
    /// `options.trustedProxies` in canonical form.
    let trustedProxies: Set<String>

    /// Opens the database (it must exist: `cwauth init` creates it) and migrates it forward if needed.
    public init(databasePath: String, options: Options = Options()) throws(StoreError) {
        self.databasePath = databasePath
        self.options = options
        trustedProxies = Set(options.trustedProxies.compactMap { ClientAddress.canonical($0) })
        let metrics = ServerMetrics()
        self.metrics = metrics
        store = try StoreService(path: databasePath, writeDuration: metrics.storeWriteDuration)
        throttle = LoginThrottle(limits: .init(maxFailures: options.loginMaxFailures, windowSeconds: options.loginWindowSeconds))
        registrationGate = RegistrationGateService(limits: .init(
            maxPending: options.maxPending, perUsernameIntervalNanos: options.registerPerUsernameIntervalNanos,
            perSecond: options.registerPerSecond))
    }
}

extension ServerState {
    /// A cookie sent over plain HTTP must not be marked Secure (the browser would drop it), and one sent
    /// over TLS must be (else a browser would also send it over plain HTTP to the same host).
    var secureCookies: Bool { options.tls != nil }

    /// Whether `host` (as given to --listen) only accepts connections from this machine.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        guard let address = ClientAddress.canonical(host) else { return false }
        return address == "::1" || address.hasPrefix("127.") || address.hasPrefix("::ffff:127.")
    }
}

/// The broker's RegistryGate (per-username interval, global rate) behind an actor, for the REST door.
actor RegistrationGateService {
    private let gate: RegistryGate

    init(limits: RegistryGate.Limits) {
        gate = RegistryGate(limits: limits)
    }

    func admit(username: String, password: String) -> Bool {
        gate.admit(username: username, password: password) == .record
    }
}
