import AuthCore

/// Failed password checks per username and per client address, in a sliding window. Once either has
/// `maxFailures` within the window, further attempts for it are refused (429) before any hashing, so
/// guessing costs an attacker time and costs the server nothing. A success clears the username's count,
/// never the address's (one valid account must not launder an address that is guessing others).
actor LoginThrottle {
    struct Limits: Sendable {
        var maxFailures: Int
        var windowSeconds: UInt64

        init(maxFailures: Int = 5, windowSeconds: UInt64 = 300) {
            self.maxFailures = maxFailures
            self.windowSeconds = windowSeconds
        }
    }

    let limits: Limits
    private var byUsername: [String: [UInt64]] = [:]
    private var byAddress: [String: [UInt64]] = [:]
    private let maxKeys = 20_000

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Seconds until an attempt for this username from this address may be tried, or nil when it may now.
    func retryAfter(username: String, address: String, now: UInt64 = LoginThrottle.seconds()) -> Int? {
        let waits = [wait(byUsername[username], now: now), wait(byAddress[address], now: now)].compactMap { $0 }
        return waits.max()
    }

    /// Counts a failure; returns true when this failure is the one that starts the lockout (worth one audit row).
    @discardableResult
    func recordFailure(username: String, address: String, now: UInt64 = LoginThrottle.seconds()) -> Bool {
        let before = retryAfter(username: username, address: address, now: now) != nil
        append(&byUsername, username, now)
        append(&byAddress, address, now)
        return !before && retryAfter(username: username, address: address, now: now) != nil
    }

    func recordSuccess(username: String) {
        byUsername[username] = nil
    }

    private func wait(_ failures: [UInt64]?, now: UInt64) -> Int? {
        guard let failures else { return nil }
        let recent = failures.filter { now < $0 + limits.windowSeconds }
        guard recent.count >= limits.maxFailures else { return nil }
        // Allowed again when the oldest of the last `maxFailures` failures leaves the window.
        let pivot = recent[recent.count - limits.maxFailures]
        return Int(pivot + limits.windowSeconds - now)
    }

    private func append(_ table: inout [String: [UInt64]], _ key: String, _ now: UInt64) {
        if table.count >= maxKeys, table[key] == nil { prune(&table, now: now) }
        var failures = (table[key] ?? []).filter { now < $0 + limits.windowSeconds }
        failures.append(now)
        if failures.count > limits.maxFailures { failures.removeFirst(failures.count - limits.maxFailures) }
        table[key] = failures
    }

    private func prune(_ table: inout [String: [UInt64]], now: UInt64) {
        table = table.filter { _, failures in failures.contains { now < $0 + limits.windowSeconds } }
        // A flood of distinct names within one window: forget them all rather than grow without bound.
        if table.count >= maxKeys { table.removeAll(keepingCapacity: true) }
    }

    static func seconds() -> UInt64 { Clock.monotonicNanos() / 1_000_000_000 }
}
