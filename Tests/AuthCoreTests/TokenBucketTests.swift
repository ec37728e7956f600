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
        var budget = DenialBudget()
        let now: UInt64 = 5_000_000_000
        var explained = 0
        for _ in 0..<1000 where budget.admit(now: now) { explained += 1 }
        #expect(explained == Int(DenialBudget.burst))
        let line = budget.report(now: now)
        #expect(line?.contains("\(1000 - explained) more denied") == true)
        #expect(budget.report(now: now + 1) == nil)
    }
}
