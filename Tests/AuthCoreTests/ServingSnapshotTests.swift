import Foundation
import Testing
@testable import AuthCore

@Suite struct ServingSnapshotTests {
    private static func snapshot(_ version: Int64) -> Snapshot {
        Snapshot(policy: Policy(users: [], roles: [], registry: RegistryWindow(openUntil: 0)), version: version)
    }

    /// Runs `body` on a thread of its own and waits for it.
    private static func onAnotherThread<R: Sendable>(_ body: @escaping @Sendable () -> R) -> R {
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox<R>()
        let thread = Thread {
            result.value = body()
            done.signal()
        }
        thread.start()
        done.wait()
        return result.value!
    }

    private final class ResultBox<R>: @unchecked Sendable {
        var value: R?
    }

    @Test func theOwnerThreadGetsTheReplacedSnapshotBackAtOnce() {
        let serving = ServingSnapshot(Self.snapshot(1))
        weak var first: Snapshot?
        do {
            let (old, parked) = serving.replace(with: Self.snapshot(2))
            first = old
            #expect(old.version == 1)
            #expect(!parked)
        }
        #expect(first == nil, "replaced on the owner thread, the old snapshot is the caller's to let go of")
        #expect(serving.withSnapshot { $0.version } == 2)
        #expect(serving.snapshot.version == 2)
        #expect(serving.takeParked().isEmpty)
    }

    @Test func aSnapshotReplacedOnAnotherThreadLivesUntilTheOwnerTakesItBack() {
        let serving = ServingSnapshot(Self.snapshot(1))
        weak var first: Snapshot?
        first = serving.snapshot
        let parked = Self.onAnotherThread { serving.replace(with: Self.snapshot(2)).parked }
        #expect(parked)
        #expect(first != nil, "the owner thread may still be reading it without a reference")
        #expect(Self.onAnotherThread { serving.takeParked().count } == 0, "only the owner thread takes parked snapshots")
        #expect(first != nil)
        #expect(serving.withSnapshot { $0.version } == 2)
        #expect(Self.onAnotherThread { serving.withSnapshot { $0.version } } == 2)
        do {
            let taken = serving.takeParked()
            #expect(taken.map(\.version) == [1])
        }
        #expect(first == nil)
        #expect(serving.takeParked().isEmpty)
    }

    @Test func swapsOnAnotherThreadParkEveryReplacedSnapshotForTheOwner() {
        let serving = ServingSnapshot(Self.snapshot(0))
        let versions = (1...200).map { Self.snapshot(Int64($0)) }
        let seen = Self.onAnotherThread { () -> [Int64] in
            var seen: [Int64] = []
            for fresh in versions {
                _ = serving.replace(with: fresh)
                seen.append(serving.withSnapshot { $0.version })
            }
            return seen
        }
        #expect(seen == Array(1...200))
        #expect(serving.withSnapshot { $0.version } == 200)
        #expect(serving.takeParked().map(\.version) == Array(0...199))
    }
}
