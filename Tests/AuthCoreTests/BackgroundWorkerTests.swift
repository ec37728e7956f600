import Synchronization
import Testing
@testable import AuthCore
#if canImport(Glibc)
import Glibc
#endif

@Suite struct BackgroundWorkerTests {
    @Test func severalThreadsRunJobsAtOnceAndEveryOutputComesBack() throws {
        let running = Atomic(0)
        let peak = Atomic(0)
        let worker = try BackgroundWorker<Int, Int>(capacity: 64, threads: 3) { job in
            let now = running.add(1, ordering: .relaxed).newValue
            peak.store(max(peak.load(ordering: .relaxed), now), ordering: .relaxed)
            usleep(20_000)
            running.subtract(1, ordering: .relaxed)
            return job * 2
        }
        for n in 0..<12 { #expect(worker.submit(n)) }
        #expect(worker.waitUntilIdle())
        #expect(Set(worker.takeOutputs()) == Set((0..<12).map { $0 * 2 }))
        #expect(peak.load(ordering: .relaxed) > 1, "jobs overlapped on the threads")
        worker.stop()
        #expect(!worker.submit(99), "a stopped worker takes nothing")
    }

    @Test func lanesAreServedInTurnAndAFullInboxRefuses() throws {
        let gate = Mutex(false)
        let order = Mutex<[String]>([])
        let worker = try BackgroundWorker<String, Never>(capacity: 4, lane: { String($0.prefix(1)) }) { job in
            while !gate.withLock({ $0 }) { usleep(1_000) }
            order.withLock { $0.append(job) }
            return nil
        }
        // The first job holds the thread until the gate opens; the rest wait in the inbox.
        #expect(worker.submit("a0"))
        usleep(20_000)
        for job in ["a1", "a2", "a3", "b0", "c0"] {
            #expect(worker.submit(job) == (job != "c0"), "\(job)")
        }
        gate.withLock { $0 = true }
        #expect(worker.waitUntilIdle())
        #expect(order.withLock { $0 } == ["a0", "a1", "b0", "a2", "a3"])
    }
}
