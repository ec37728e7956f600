import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Loads the policy and compiles the next snapshot on a thread of its own. A million rules take
/// seconds to read and compile; on the broker's only thread that would stall every client, while
/// here the current snapshot keeps answering until the new one is swapped in.
///
/// The thread uses its own SQLite connection (a connection must not be shared between threads) and
/// a read transaction, so it sees one consistent state of the store.
final class SnapshotBuild: Sendable {
    typealias Outcome = Result<Snapshot, StoreError>

    private let outcome = Mutex<Outcome?>(nil)
    private let thread = Mutex<pthread_t?>(nil)
    /// Who must be kicked or forgotten, against the snapshot serving when the build began: a pass
    /// over every user, done here rather than on the broker's thread at the swap.
    private let changes = Mutex<(basedOn: Snapshot, changes: Snapshot.UserChanges)?>(nil)

    /// `version` is the policy version the broker's probe read when it saw the change. A change
    /// committed after that read is seen by the next probe and causes one more (harmless) build.
    init(path: String, version: Int64, previous: Snapshot? = nil) throws(StoreError) {
        let job = Unmanaged.passRetained(Job(build: self, path: path, version: version, previous: previous)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { argument in
            let job = Unmanaged<Job>.fromOpaque(argument!).takeRetainedValue()
            job.run()
            return nil
        }, job)
        guard rc == 0 else {
            Unmanaged<Job>.fromOpaque(job).release()
            throw .cannotOpen(path: path, reason: "no thread to build the snapshot in (pthread_create: \(rc))")
        }
        thread.withLock { $0 = handle }
    }

    /// Builds on a thread of its own and waits for it (plugin start, broker reload). The caller
    /// blocks all the same, but the snapshot's memory then comes from that thread's malloc arena,
    /// not the broker's main one: when the snapshot is replaced and freed, handing those pages back
    /// (`Memory.returnFreePages`) never holds the lock the broker's own allocations need.
    static func buildAndWait(path: String, version: Int64) throws(StoreError) -> Snapshot {
        let build = try SnapshotBuild(path: path, version: version)
        build.join()
        switch build.finished {
        case let .success(snapshot): return snapshot
        case let .failure(error): throw error
        case nil: throw .cannotOpen(path: path, reason: "the snapshot build ended without a result")
        }
    }

    /// The finished snapshot (or why it failed); nil while the thread still works.
    var finished: Outcome? { outcome.withLock { $0 } }

    /// The user changes from `current` to the finished snapshot, if the build computed them against it.
    func userChanges(from current: Snapshot) -> Snapshot.UserChanges? {
        changes.withLock { value in value.flatMap { $0.basedOn === current ? $0.changes : nil } }
    }

    /// Waits for the thread to end. Called once the outcome is in, and before the plugin is unloaded
    /// (the thread runs this library's code).
    func join() {
        guard let handle = thread.withLock({ value -> pthread_t? in defer { value = nil }; return value }) else { return }
        pthread_join(handle, nil)
    }

    fileprivate func finish(_ result: Outcome, changes found: (Snapshot, Snapshot.UserChanges)? = nil) {
        if let found { changes.withLock { $0 = found } }
        outcome.withLock { $0 = result }
    }

    private final class Job: @unchecked Sendable {
        let build: SnapshotBuild
        let path: String
        let version: Int64
        let previous: Snapshot?

        init(build: SnapshotBuild, path: String, version: Int64, previous: Snapshot?) {
            self.build = build
            self.path = path
            self.version = version
            self.previous = previous
        }

        func run() {
            do {
                let store = try Store(path: path, actor: "broker", busyTimeoutMs: 1000)
                let fresh = Snapshot(policy: try store.loadPolicy(), version: version)
                build.finish(.success(fresh), changes: previous.map { ($0, $0.userChanges(in: fresh)) })
            } catch {
                build.finish(.failure(error))
            }
        }
    }
}
