extension PasswordHash {
    /// This machine's PBKDF2-SHA512 speed, measured once (the faster of two 2,000-iteration
    /// derivations, about 3 ms in all): turns a budget in milliseconds into iterations.
    public static let measuredNanosPerIteration: Double = {
        let iterations = 2_000
        var best = UInt64.max
        for _ in 0..<2 {
            let start = Clock.monotonicNanos()
            _ = make(password: "calibration", iterations: iterations)
            best = min(best, Clock.monotonicNanos() &- start)
        }
        return max(1, Double(best) / Double(iterations))
    }()
}
