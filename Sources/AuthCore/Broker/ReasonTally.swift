/// Events a client can cause by the thousand (dropped registrations, throttled logins), counted by
/// reason and summed up in one log line at most once per interval instead of one line per event.
struct ReasonTally {
    let intervalNanos: UInt64
    private var counts: [String: Int] = [:]
    private var lastReport: UInt64 = 0

    init(intervalNanos: UInt64) {
        self.intervalNanos = intervalNanos
    }

    mutating func count(_ reason: String) {
        counts[reason, default: 0] += 1
    }

    /// The total and "reason: n, ..." since the last report, at most once per interval (the first at once).
    mutating func report(now: UInt64) -> (total: Int, parts: String)? {
        guard !counts.isEmpty, now &- lastReport >= intervalNanos || lastReport == 0 else { return nil }
        lastReport = now
        defer { counts.removeAll() }
        let parts = counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        return (counts.values.reduce(0, +), parts)
    }
}
