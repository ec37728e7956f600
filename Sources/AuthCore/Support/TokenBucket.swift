/// A rate that refills smoothly: `burst` events at once, then `perSecond` on average. Used wherever a
/// client can make the broker's thread do work (explaining denials, hashing), so that work has a
/// ceiling per second however hard the client pushes.
public struct TokenBucket: Sendable {
    public let perSecond: Double
    public let burst: Double
    private var tokens: Double
    /// Time of the last refill; the bucket's clock starts at its first use (full).
    private var last: UInt64?

    public init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
        self.tokens = burst
    }

    /// Takes one token when there is one; false (and nothing taken) otherwise.
    public mutating func take(now: UInt64) -> Bool {
        take(1, now: now)
    }

    /// Takes `cost` tokens when there are that many; false (and nothing taken) otherwise.
    public mutating func take(_ cost: Double, now: UInt64) -> Bool {
        refill(now)
        guard tokens >= cost else { return false }
        tokens -= cost
        return true
    }

    /// Tokens available now, without taking any.
    public mutating func available(now: UInt64) -> Double {
        refill(now)
        return tokens
    }

    /// Takes a token if one is there, else leaves the bucket empty: for events that happen anyway.
    public mutating func drain(now: UInt64) {
        refill(now)
        tokens = max(0, tokens - 1)
    }

    private mutating func refill(_ now: UInt64) {
        if let last, now > last { tokens = min(burst, tokens + Double(now - last) / 1e9 * perSecond) }
        if last == nil || now > last! { last = now }
    }
}
