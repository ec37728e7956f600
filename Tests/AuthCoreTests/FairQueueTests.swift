import Testing
@testable import AuthCore

@Suite struct FairQueueTests {
    @Test func lanesAreServedInTurnAndEachInOrder() {
        var q = FairQueue<String>()
        for n in 0..<5 { q.append("a\(n)", lane: "a") }
        q.append("b0", lane: "b")
        q.append("b1", lane: "b")
        q.append("c0", lane: "c")
        #expect(q.count == 8 && q.count(lane: "a") == 5)
        var served: [String] = []
        while let job = q.popFirst() { served.append(job) }
        #expect(served == ["a0", "b0", "c0", "a1", "b1", "a2", "a3", "a4"])
        #expect(q.isEmpty && q.count(lane: "a") == 0)
    }

    @Test func oneLaneIsAPlainFIFOEvenAfterManyJobs() {
        var q = FairQueue<Int>()
        var next = 0
        for round in 0..<50 {
            for n in 0..<(round % 7 + 1) { q.append(round * 10 + n, lane: "") }
            while let job = q.popFirst() {
                #expect(job >= next)
                next = job
            }
        }
        #expect(q.isEmpty)
    }

    @Test func aLaneThatEmptiesJoinsTheEndWhenItComesBack() {
        var q = FairQueue<String>()
        q.append("a0", lane: "a")
        q.append("b0", lane: "b")
        #expect(q.popFirst() == "a0")
        q.append("a1", lane: "a")
        q.append("b1", lane: "b")
        #expect([q.popFirst(), q.popFirst(), q.popFirst()] == ["b0", "a1", "b1"])
        q.append("x", lane: "x")
        q.removeAll()
        #expect(q.popFirst() == nil && q.count == 0)
    }
}
