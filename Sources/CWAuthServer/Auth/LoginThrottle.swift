import AuthCore

/// Failed password checks, so that guessing costs an attacker time and the server nothing, while one
/// caller's failures never lock out another caller's correct password.
///
/// An attempt for `username` from `address` is *trusted* when that username logged in successfully from
/// that address within `trustedSeconds` (24 h). Then:
/// - untrusted attempts are refused (429, before any hashing) while the username, or the address, has
///   `maxFailures` failures within the window — failures of untrusted attempts only;
/// - trusted attempts ignore both counters: others guessing this username, or guessing other usernames
///   from the same address (all callers behind one proxy), cannot lock them out. Their own failures are
///   counted per (address, username); once they reach `maxFailures` in the window the pair gets one
///   password check per `trustedIntervalNanos` (1 s), so even a guesser sharing the address gets no more.
/// A success clears the username's count and the pair's, never the address's (one valid account must not
/// launder an address that is guessing others).
actor LoginThrottle {
    struct Limits: Sendable {
        var maxFailures: Int
        var windowSeconds: UInt64
        var trustedSeconds: UInt64
        var trustedIntervalNanos: UInt64

        /// No default for the failure count and window: `ServerState.Options` is where they are set.
        init(maxFailures: Int, windowSeconds: UInt64, trustedSeconds: UInt64 = 86_400,
             trustedIntervalNanos: UInt64 = 1_000_000_000) {
            self.maxFailures = maxFailures
            self.windowSeconds = windowSeconds
            self.trustedSeconds = trustedSeconds
            self.trustedIntervalNanos = trustedIntervalNanos
        }
    }

    private struct Pair: Hashable {
        let username: String
        let address: String
    }

    let limits: Limits
    private var byUsername: [String: [UInt64]] = [:]
    private var byAddress: [String: [UInt64]] = [:]
    private var byPair: [Pair: [UInt64]] = [:]
    /// Last success of each (address, username), in seconds.
    private var trusted: [Pair: UInt64] = [:]
    /// When a trusted pair last failed or (in back-off) was let through to a password check, in nanoseconds.
    private var lastTrustedCheck: [Pair: UInt64] = [:]
    private let maxKeys = 20_000

    init(limits: Limits) {
        self.limits = limits
    }

    /// Seconds until an attempt for this username from this address may be tried, or nil when it may now.
    /// A nil answer for a trusted pair in back-off books its one check for this interval.
    func retryAfter(username: String, address: String, now: UInt64 = LoginThrottle.seconds(),
                    nanos: UInt64 = Clock.monotonicNanos()) -> Int? {
        let pair = Pair(username: username, address: address)
        if isTrusted(pair, now: now) {
            guard wait(byPair[pair], now: now) != nil else { return nil }
            if let last = lastTrustedCheck[pair], nanos < last + limits.trustedIntervalNanos {
                return Int((last + limits.trustedIntervalNanos - nanos + 999_999_999) / 1_000_000_000)
            }
            if lastTrustedCheck.count >= maxKeys { lastTrustedCheck.removeAll(keepingCapacity: true) }
            lastTrustedCheck[pair] = nanos
            return nil
        }
        return untrustedWait(username: username, address: address, now: now)
    }

    /// Counts a failure; returns true when this failure is the one that starts the lockout (worth one audit row).
    @discardableResult
    func recordFailure(username: String, address: String, now: UInt64 = LoginThrottle.seconds(),
                       nanos: UInt64 = Clock.monotonicNanos()) -> Bool {
        let pair = Pair(username: username, address: address)
        if isTrusted(pair, now: now) {
            let before = wait(byPair[pair], now: now) != nil
            append(&byPair, pair, now)
            if lastTrustedCheck.count >= maxKeys { lastTrustedCheck.removeAll(keepingCapacity: true) }
            lastTrustedCheck[pair] = nanos
            return !before && wait(byPair[pair], now: now) != nil
        }
        let before = untrustedWait(username: username, address: address, now: now) != nil
        append(&byUsername, username, now)
        append(&byAddress, address, now)
        return !before && untrustedWait(username: username, address: address, now: now) != nil
    }

    /// The right password: this address is now trusted for this username.
    func recordSuccess(username: String, address: String, now: UInt64 = LoginThrottle.seconds()) {
        let pair = Pair(username: username, address: address)
        byUsername[username] = nil
        byPair[pair] = nil
        lastTrustedCheck[pair] = nil
        if trusted.count >= maxKeys, trusted[pair] == nil {
            trusted = trusted.filter { now < $0.value + limits.trustedSeconds }
            if trusted.count >= maxKeys { trusted.removeAll(keepingCapacity: true) }
        }
        trusted[pair] = now
    }

    private func isTrusted(_ pair: Pair, now: UInt64) -> Bool {
        guard let since = trusted[pair] else { return false }
        return now < since + limits.trustedSeconds
    }

    private func untrustedWait(username: String, address: String, now: UInt64) -> Int? {
        [wait(byUsername[username], now: now), wait(byAddress[address], now: now)].compactMap { $0 }.max()
    }

    private func wait(_ failures: [UInt64]?, now: UInt64) -> Int? {
        guard let failures else { return nil }
        let recent = failures.filter { now < $0 + limits.windowSeconds }
        guard recent.count >= limits.maxFailures else { return nil }
        // Allowed again when the oldest of the last `maxFailures` failures leaves the window.
        let pivot = recent[recent.count - limits.maxFailures]
        return Int(pivot + limits.windowSeconds - now)
    }

    private func append<Key: Hashable>(_ table: inout [Key: [UInt64]], _ key: Key, _ now: UInt64) {
        if table.count >= maxKeys, table[key] == nil { prune(&table, now: now) }
        var failures = (table[key] ?? []).filter { now < $0 + limits.windowSeconds }
        failures.append(now)
        if failures.count > limits.maxFailures { failures.removeFirst(failures.count - limits.maxFailures) }
        table[key] = failures
    }

    private func prune<Key: Hashable>(_ table: inout [Key: [UInt64]], now: UInt64) {
        table = table.filter { _, failures in failures.contains { now < $0 + limits.windowSeconds } }
        // A flood of distinct names within one window: forget them all rather than grow without bound.
        if table.count >= maxKeys { table.removeAll(keepingCapacity: true) }
    }

    static func seconds() -> UInt64 { Clock.monotonicNanos() / 1_000_000_000 }
}
