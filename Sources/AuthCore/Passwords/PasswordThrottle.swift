/// Bounds the password hashing that failed logins can demand of the broker's single thread.
///
/// Every uncached password check is one PBKDF2 run on the thread that serves every client, so
/// guessing must cost the guesser time, not the broker. Three limits, checked before any hashing:
/// - an **address** with `addressFailures` failed checks backs off (its attempts are refused
///   without hashing), first for `firstBackoff`, doubling with every failure after that up to
///   `maxBackoff`;
/// - a **username** with `usernameFailures` failed checks backs off the same way, except from
///   addresses where that username logged in successfully (a device keeps working from where it
///   is while someone else guesses its password);
/// - **overall**, failed checks draw on a bucket of `globalBurst` refilled at `globalPerSecond`:
///   when it is empty, checks for username/address pairs never seen succeeding are refused
///   without hashing, so a spray from many addresses still gets a bounded number of hashes.
/// A key with no failure for `forgetAfter` starts clean. Cached successes never reach the
/// throttle: a device already verified is let in whatever its neighbours do.
public struct PasswordThrottle {
    public struct Limits: Sendable, Equatable {
        public var addressFailures = 10
        public var usernameFailures = 5
        public var firstBackoffNanos: UInt64 = 1_000_000_000
        public var maxBackoffNanos: UInt64 = 60_000_000_000
        public var forgetAfterNanos: UInt64 = 600_000_000_000
        /// Each failed check stalls every client for one PBKDF2 run: a couple a second stay below
        /// what a well-behaved client's 99th percentile notices.
        public var globalPerSecond = 2
        public var globalBurst = 5
        /// How long a successful username/address pair stays exempt from its username's back-off.
        public var trustedNanos: UInt64 = 86_400_000_000_000
        /// Keys remembered per table; past it the table starts over (bounded memory under a flood).
        public var maxKeys = 50_000

        public init() {}
    }

    public enum Scope: Sendable, Equatable, CustomStringConvertible {
        case address, username, overall

        public var description: String {
            switch self {
            case .address: return "address"
            case .username: return "username"
            case .overall: return "overall failure rate"
            }
        }
    }

    public enum Verdict: Sendable, Equatable {
        case verify
        /// Refused without hashing; `retryAfterNanos` until this scope lets an attempt through.
        case refuse(Scope, retryAfterNanos: UInt64)
    }

    /// A back-off that a failure started or lengthened: worth one log line.
    public struct BackoffStarted: Sendable, Equatable {
        public let scope: Scope
        public let key: String
        public let failures: Int
        public let backoffNanos: UInt64
    }

    struct Counter {
        var failures = 0
        var lastFailure: UInt64 = 0
        var blockedUntil: UInt64 = 0
        var backoff: UInt64 = 0
    }

    /// A device has a few addresses at most; past this many, a username's expired ones are dropped.
    static let trustedAddressesPerUser = 16

    public let limits: Limits
    private var byAddress: [String: Counter] = [:]
    private var byUsername: [String: Counter] = [:]
    /// Addresses each username logged in from, with when that trust ends; per username, so an admin's
    /// change to one user forgets its addresses without looking at anyone else's.
    private var trusted: [String: [String: UInt64]] = [:]
    private var overall: TokenBucket

    public init(limits: Limits = Limits()) {
        self.limits = limits
        self.overall = TokenBucket(perSecond: Double(limits.globalPerSecond), burst: Double(limits.globalBurst))
    }

    public mutating func verdict(username: String, address: String, now: UInt64) -> Verdict {
        if let wait = Self.wait(byAddress[address], now: now) { return .refuse(.address, retryAfterNanos: wait) }
        let isTrusted = isTrusted(username: username, address: address, now: now)
        if !isTrusted, let wait = Self.wait(byUsername[username], now: now) {
            return .refuse(.username, retryAfterNanos: wait)
        }
        if !isTrusted && overall.available(now: now) < 1 {
            return .refuse(.overall, retryAfterNanos: UInt64(1_000_000_000 / max(1, limits.globalPerSecond)))
        }
        return .verify
    }

    /// Counts a failed hash check; returns the back-offs it started or lengthened.
    public mutating func recordFailure(username: String, address: String, now: UInt64) -> [BackoffStarted] {
        overall.drain(now: now)
        var started: [BackoffStarted] = []
        if let b = Self.fail(&byAddress, address, threshold: limits.addressFailures, limits, now) {
            started.append(BackoffStarted(scope: .address, key: address, failures: b.failures, backoffNanos: b.backoff))
        }
        if let b = Self.fail(&byUsername, username, threshold: limits.usernameFailures, limits, now) {
            started.append(BackoffStarted(scope: .username, key: username, failures: b.failures, backoffNanos: b.backoff))
        }
        return started
    }

    /// A verified password: this pair is exempt from its username's back-off from now on. Counts are
    /// kept: a device logging in must not hand a guesser a fresh allowance, and one valid account
    /// must not launder an address that guesses others.
    public mutating func recordSuccess(username: String, address: String, now: UInt64) {
        if trusted.count >= limits.maxKeys, trusted[username] == nil { trusted.removeAll(keepingCapacity: true) }
        var addresses = trusted[username] ?? [:]
        if addresses.count >= Self.trustedAddressesPerUser, addresses[address] == nil {
            addresses = addresses.filter { $0.value > now }
            if addresses.count >= Self.trustedAddressesPerUser { addresses.removeAll() }
        }
        addresses[address] = now &+ limits.trustedNanos
        trusted[username] = addresses
    }

    /// Clears a username's back-off and trusted addresses: its password or state was changed by an admin.
    public mutating func forget(username: String) {
        byUsername[username] = nil
        trusted[username] = nil
    }

    private func isTrusted(username: String, address: String, now: UInt64) -> Bool {
        guard let until = trusted[username]?[address] else { return false }
        return until > now
    }

    private static func wait(_ counter: Counter?, now: UInt64) -> UInt64? {
        guard let counter, counter.blockedUntil > now else { return nil }
        return counter.blockedUntil - now
    }

    private static func fail(_ table: inout [String: Counter], _ key: String, threshold: Int,
                             _ limits: Limits, _ now: UInt64) -> Counter? {
        if table.count >= limits.maxKeys, table[key] == nil { table.removeAll(keepingCapacity: true) }
        var counter = table[key] ?? Counter()
        if counter.failures > 0, now &- counter.lastFailure > limits.forgetAfterNanos { counter = Counter() }
        counter.failures += 1
        counter.lastFailure = now
        var started: Counter?
        if counter.failures >= threshold {
            counter.backoff = counter.backoff == 0 ? limits.firstBackoffNanos : min(counter.backoff * 2, limits.maxBackoffNanos)
            counter.blockedUntil = now &+ counter.backoff
            started = counter
        }
        table[key] = counter
        return started
    }
}
