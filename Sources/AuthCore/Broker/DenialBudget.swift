import Synchronization

/// How many denied ACL checks get an explained log line. The explanation comes from the reference
/// matcher, whose cost grows with the user's roles, so a client flooding publishes it may not make
/// would otherwise buy milliseconds of the broker's thread per message. The first `burst` denials,
/// then `perSecond`, are explained; the others are only counted and summed up once a minute.
///
/// Every denial asks `admit()`, so it reads neither a lock nor the clock: it takes a token from
/// an atomic count, and the broker's tick (`refill`) puts back what the time since the last one
/// earned. A client flooding denied publishes then costs the broker the check and one load.
final class DenialBudget: Sendable {
    static let perSecond = 10.0
    static let burst = 20
    static let reportIntervalNanos: UInt64 = 60_000_000_000

    private let tokens = Atomic(DenialBudget.burst)
    /// Counted like the ACL answers (a relaxed load and store): exact on one thread, on several
    /// possibly off by a few.
    private let unexplained = Atomic<UInt64>(0)

    private struct Clock {
        /// When the tokens were last refilled; the budget's clock starts at its first refill.
        var lastRefill: UInt64?
        /// Tokens earned but not yet whole.
        var fraction = 0.0
        var lastReport: UInt64 = 0
    }
    private let clock = Mutex(Clock())

    /// True when this denial may be explained.
    @inline(__always)
    func admit() -> Bool {
        var left = tokens.load(ordering: .relaxed)
        while left > 0 {
            let (taken, now) = tokens.compareExchange(expected: left, desired: left - 1, ordering: .relaxed)
            if taken { return true }
            left = now
        }
        unexplained.store(unexplained.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        return false
    }

    /// Adds the tokens earned since the last refill, up to `burst`.
    func refill(now: UInt64) {
        clock.withLock { clock in
            defer { clock.lastRefill = now }
            guard let last = clock.lastRefill, now > last else { return }
            clock.fraction += Double(now - last) / 1e9 * Self.perSecond
            let earned = Int(clock.fraction)
            guard earned > 0 else { return }
            clock.fraction -= Double(earned)
            var current = tokens.load(ordering: .relaxed)
            while true {
                let filled = min(Self.burst, current + earned)
                if filled == Self.burst { clock.fraction = 0 }
                let (exchanged, seen) = tokens.compareExchange(expected: current, desired: filled, ordering: .relaxed)
                if exchanged { return }
                current = seen
            }
        }
    }

    /// At most once per report interval: how many denials went unexplained since the last report.
    func report(now: UInt64) -> String? {
        clock.withLock { clock -> String? in
            let count = unexplained.load(ordering: .relaxed)
            guard count > 0, now &- clock.lastReport >= Self.reportIntervalNanos || clock.lastReport == 0 else { return nil }
            clock.lastReport = now
            unexplained.subtract(count, ordering: .relaxed)
            return "acl: \(count) more denied check(s) not explained in the log (at most \(Int(Self.perSecond))/s are)"
        }
    }
}
