import Testing
@testable import AuthCore

@Suite struct TokenBucketTests {
    @Test func burstThenSteadyRate() {
        var bucket = TokenBucket(perSecond: 10, burst: 5)
        let start: UInt64 = 1_000_000_000
        var taken = 0
        for _ in 0..<20 where bucket.take(now: start) { taken += 1 }
        #expect(taken == 5)
        // 10/s: one token every 100 ms, never more than the burst.
        let refilled = bucket.take(now: start + 100_000_000)
        let early = bucket.take(now: start + 150_000_000)
        #expect(refilled)
        #expect(!early)
        taken = 0
        for _ in 0..<20 where bucket.take(now: start + 60_000_000_000) { taken += 1 }
        #expect(taken == 5)
    }

    @Test func denialsBeyondTheBudgetAreCountedNotExplained() {
        let budget = DenialBudget()
        let now: UInt64 = 5_000_000_000
        var explained = 0
        for _ in 0..<1000 where budget.admit() { explained += 1 }
        #expect(explained == DenialBudget.burst)
        let line = budget.report(now: now)
        #expect(line?.contains("\(1000 - explained) more denied") == true)
        #expect(budget.report(now: now + 1) == nil)
        for _ in 0..<5 { _ = budget.admit() }
        #expect(budget.report(now: now + DenialBudget.reportIntervalNanos)?.contains("5 more denied") == true)
    }

    @Test func theTickRefillsTheBudgetAtItsRateUpToTheBurst() {
        let budget = DenialBudget()
        func drain() -> Int {
            var explained = 0
            while budget.admit() { explained += 1 }
            return explained
        }
        let start: UInt64 = 7_000_000_000
        budget.refill(now: start)  // starts the clock; the budget is full
        #expect(drain() == DenialBudget.burst)
        budget.refill(now: start + 250_000_000)
        #expect(drain() == 2, "a quarter second earns 2.5 explanations")
        budget.refill(now: start + 500_000_000)
        #expect(drain() == 3, "the half left over is not lost")
        budget.refill(now: start + 1_500_000_000)
        #expect(drain() == Int(DenialBudget.perSecond))
        budget.refill(now: start + 1_000_000_000_000)
        #expect(drain() == DenialBudget.burst, "a quiet hour fills the budget to its burst, not beyond")
    }
}
