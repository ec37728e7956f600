/// Decides, before any hashing or disk write, whether an unknown user's CONNECT may be recorded
/// as a pending registration. A flood of bogus CONNECTs must neither fill the disk nor stall the
/// broker's single thread with PBKDF2, so attempts are limited per username and overall, and what
/// is dropped is counted and reported once per interval instead of once per attempt.
public final class RegistryGate {
    public struct Limits: Sendable {
        public var maxPending: Int
        /// Minimum time between two recorded attempts for the same username.
        public var perUsernameIntervalNanos: UInt64
        /// Recorded attempts allowed per second across all usernames (each costs one password hash).
        public var perSecond: Int
        public var reportIntervalNanos: UInt64

        /// The same username is recorded at most every half second.
        public static let defaultPerUsernameIntervalNanos: UInt64 = 500_000_000
        /// plugin_opt_registry_rate's default, and the explicit registration door's rate.
        public static let defaultPerSecond = 20

        public init(maxPending: Int = Store.defaultMaxPending, perUsernameIntervalNanos: UInt64 = Self.defaultPerUsernameIntervalNanos,
                    perSecond: Int = Self.defaultPerSecond, reportIntervalNanos: UInt64 = 10_000_000_000) {
            self.maxPending = maxPending
            self.perUsernameIntervalNanos = perUsernameIntervalNanos
            self.perSecond = perSecond
            self.reportIntervalNanos = reportIntervalNanos
        }
    }

    public enum Verdict: Equatable, Sendable {
        case record
        case ignore
        /// Not a name or password the registry takes; the reason is for the broker log.
        case invalid(String)
    }

    public let limits: Limits
    private var lastAttempt: [String: UInt64] = [:]
    /// Smooth: a burst of a quarter second's worth, then one attempt every 1/perSecond s.
    private var bucket: TokenBucket
    private var dropped: ReasonTally
    /// Every attempt dropped since the gate was made (`BrokerStats.registryDropped`).
    public private(set) var droppedTotal: UInt64 = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
        self.bucket = TokenBucket(perSecond: Double(limits.perSecond), burst: max(1, Double(limits.perSecond) / 4))
        self.dropped = ReasonTally(intervalNanos: limits.reportIntervalNanos)
    }

    /// Call only for usernames the snapshot does not know, with the window open.
    public func admit(username: String, password: String, now: UInt64 = Clock.monotonicNanos()) -> Verdict {
        if let reason = Self.whyInvalid(username: username, password: password) {
            count("invalid username or password")
            return .invalid(reason)
        }
        if let last = lastAttempt[username], now &- last < limits.perUsernameIntervalNanos {
            count("per-username rate limit")
            return .ignore
        }
        guard bucket.take(now: now) else {
            count("overall rate limit")
            return .ignore
        }
        if lastAttempt.count >= 4 * limits.maxPending + 1000 { lastAttempt.removeAll(keepingCapacity: true) }
        lastAttempt[username] = now
        return .record
    }

    /// What an unknown client must send to be recorded, in the words `registry status` prints.
    public static let rules = "while the window is open, a CONNECT with an unknown username of "
        + "\(Validation.usernameLength.lowerBound)-\(Validation.usernameLength.upperBound) printable characters "
        + "(no '+', '#', '/' or whitespace) and a password of at least \(Validation.minimumPasswordLength) characters "
        + "is recorded as a pending request; anything else is refused and logged, not recorded"

    /// Why the registry would not record this attempt, or nil when it would (the rules `registry status` states).
    public static func whyInvalid(username: String, password: String) -> String? {
        do { try Validation.validateUsername(username) } catch { return error.description }
        if password.unicodeScalars.count < Validation.minimumPasswordLength {
            return "password shorter than \(Validation.minimumPasswordLength) characters"
        }
        return nil
    }

    /// Counts an attempt the store refused to keep (table full, blocked).
    public func count(_ reason: String) {
        dropped.count(reason)
        droppedTotal &+= 1
    }

    /// At most once per report interval: a summary of what was dropped since the last one.
    public func report(now: UInt64 = Clock.monotonicNanos()) -> String? {
        dropped.report(now: now).map { "registry: dropped \($0.total) registration attempt(s) (\($0.parts))" }
    }
}
