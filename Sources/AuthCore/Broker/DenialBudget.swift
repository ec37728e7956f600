/// How many denied ACL checks get an explained log line. The explanation comes from the reference
/// matcher, whose cost grows with the user's roles, so a client flooding publishes it may not make
/// would otherwise buy milliseconds of the broker's thread per message. The first `burst` denials,
/// then `perSecond`, are explained; the others are only counted and summed up once a minute.
struct DenialBudget {
    static let perSecond = 10.0
    static let burst = 20.0
    static let reportIntervalNanos: UInt64 = 60_000_000_000

    private var bucket = TokenBucket(perSecond: perSecond, burst: burst)
    private var unexplained = 0
    private var lastReport: UInt64 = 0

    /// True when this denial may be explained. The clock is read only for denials.
    mutating func admit(now: UInt64 = Clock.monotonicNanos()) -> Bool {
        if bucket.take(now: now) { return true }
        unexplained += 1
        return false
    }

    mutating func report(now: UInt64) -> String? {
        guard unexplained > 0, now &- lastReport >= Self.reportIntervalNanos || lastReport == 0 else { return nil }
        lastReport = now
        defer { unexplained = 0 }
        return "acl: \(unexplained) more denied check(s) not explained in the log (at most \(Int(Self.perSecond))/s are)"
    }
}
