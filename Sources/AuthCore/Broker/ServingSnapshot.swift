import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The snapshot in force, as every ACL check reads it.
///
/// Read behind a mutex with a reference taken, it costs four locked instructions per check (lock,
/// retain, release, unlock): a tenth of an allowed check at the broker's entry point. The thread
/// that made this holder (the broker's own: plugin init, every check and every tick run on it)
/// reads the snapshot with neither, which is safe because a snapshot it may be reading is never
/// let go of while it reads: replaced on that thread, the old one is handed back after the new
/// one is in place (and that thread is then not inside a check); replaced on any other thread, the
/// old one is parked until the owner thread takes it back with `takeParked()`, between two of its
/// own checks. Every other thread takes the lock and a reference, so a broker that one day calls
/// from several threads still sees either the old or the new policy whole.
final class ServingSnapshot: Sendable {
    private let owner: pthread_t
    private let strong: Mutex<Snapshot>
    /// The same snapshot as `strong`, unretained (its address): the owner thread's read.
    private let unretained: Atomic<UInt>
    /// Snapshots replaced on another thread: still alive for the owner thread's check in flight.
    private let parked = Mutex<[Snapshot]>([])

    init(_ snapshot: Snapshot) {
        owner = pthread_self()
        strong = Mutex(snapshot)
        unretained = Atomic(Self.address(snapshot))
    }

    /// A reference of the caller's own (any thread).
    var snapshot: Snapshot { strong.withLock { $0 } }

    var onOwnerThread: Bool { pthread_equal(pthread_self(), owner) != 0 }

    /// `body` on the snapshot in force; on the owner thread without lock or reference.
    @inline(__always)
    func withSnapshot<R>(_ body: (Snapshot) -> R) -> R {
        guard onOwnerThread else { return body(snapshot) }
        let address = UnsafeRawPointer(bitPattern: unretained.load(ordering: .acquiring)).unsafelyUnwrapped
        return Unmanaged<Snapshot>.fromOpaque(address)._withUnsafeGuaranteedRef(body)
    }

    private static func address(_ snapshot: Snapshot) -> UInt {
        UInt(bitPattern: Unmanaged.passUnretained(snapshot).toOpaque())
    }

    /// Puts `fresh` in force. Returns the snapshot it replaced, and whether that one was parked
    /// (replaced on another thread than the owner): the caller must then not hand it to anyone
    /// who frees it; the owner thread's `takeParked()` returns it once it is safe to.
    func replace(with fresh: Snapshot) -> (old: Snapshot, parked: Bool) {
        let old = strong.withLock { value -> Snapshot in
            defer {
                value = fresh
                unretained.store(Self.address(fresh), ordering: .releasing)
            }
            return value
        }
        guard !onOwnerThread else { return (old, false) }
        parked.withLock { $0.append(old) }
        return (old, true)
    }

    /// On the owner thread, the snapshots parked since the last call (the owner is between checks,
    /// so none of them is being read); on any other thread, none.
    func takeParked() -> [Snapshot] {
        guard onOwnerThread else { return [] }
        return parked.withLock { list in
            defer { list = [] }
            return list
        }
    }
}
