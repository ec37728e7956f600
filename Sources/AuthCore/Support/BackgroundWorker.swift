import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A thread of the plugin's own with a bounded inbox: the broker's thread hands it slow work
/// (SQLite writes that may wait for a lock, password hashing, freeing a large snapshot) and never
/// waits for it. What the work produced comes back through an outbox that the broker's thread
/// empties on its own schedule, so only that thread logs: mosquitto_log_printf may publish to
/// `$SYS` topics, which is not safe from another thread.
///
/// `@unchecked Sendable`: the inbox and outbox live behind a Mutex, and the semaphore is POSIX's own
/// thread-safe counter; nothing else is shared.
final class BackgroundWorker<Job: Sendable, Output: Sendable>: @unchecked Sendable {
    typealias Work = @Sendable (Job) -> Output?
    /// Which lane of the inbox a job waits in (see `FairQueue`).
    typealias Lane = @Sendable (Job) -> String

    private struct Box {
        var inbox = FairQueue<Job>()
        var outbox: [Output] = []
        /// Jobs being run (one per thread at most).
        var working = 0
        var stopping = false
    }

    /// What the thread and the broker's side share; the thread holds it strongly, so the worker's
    /// own deinit can stop and join the thread while the thread still reads it.
    private final class Shared: @unchecked Sendable {
        let box = Mutex(Box())
        let wake: UnsafeMutablePointer<sem_t>

        init() {
            wake = .allocate(capacity: 1)
            sem_init(wake, 0, 0)
        }

        deinit {
            sem_destroy(wake)
            wake.deallocate()
        }

        func next() -> Job? {
            while true {
                sem_wait(wake)
                let job = box.withLock { box -> Job?? in
                    if box.stopping { return .some(nil) }
                    guard let job = box.inbox.popFirst() else { return nil }
                    box.working += 1
                    return .some(job)
                }
                if let job { return job }
            }
        }

        func finished(_ output: Output?) {
            box.withLock { box in
                if let output { box.outbox.append(output) }
                box.working -= 1
            }
        }
    }

    private final class Context {
        let shared: Shared
        let work: Work

        init(shared: Shared, work: @escaping Work) {
            self.shared = shared
            self.work = work
        }

        func run() {
            while let job = shared.next() {
                shared.finished(work(job))
            }
        }
    }

    let capacity: Int
    private let lane: Lane?
    private let shared = Shared()
    private var threads: [pthread_t] = []

    /// Starts `threads` threads. `work` runs on them, one job per thread at a time: in submission
    /// order, or with `lane` in submission order within each lane and the lanes in turn.
    init(capacity: Int, threads: Int = 1, lane: Lane? = nil, work: @escaping Work) throws(WorkerError) {
        self.capacity = capacity
        self.lane = lane
        let context = Context(shared: shared, work: work)
        for _ in 0..<max(1, threads) {
            do {
                self.threads.append(try Thread.start { context.run() })
            } catch {
                stop()
                throw error
            }
        }
    }

    /// Queues a job; false (nothing queued) when the inbox is full or the worker is stopping.
    func submit(_ job: Job) -> Bool {
        let queued = shared.box.withLock { box -> Bool in
            guard !box.stopping, box.inbox.count < capacity else { return false }
            box.inbox.append(job, lane: lane?(job) ?? "")
            return true
        }
        if queued { sem_post(shared.wake) }
        return queued
    }

    /// Everything finished since the last call, oldest first.
    func takeOutputs() -> [Output] {
        shared.box.withLock { box in
            guard !box.outbox.isEmpty else { return [] }
            defer { box.outbox.removeAll(keepingCapacity: true) }
            return box.outbox
        }
    }

    /// Jobs queued or running.
    var backlog: Int { shared.box.withLock { $0.inbox.count + $0.working } }

    /// Waits (polling, for tests and tools) until every queued job has run; false on timeout.
    func waitUntilIdle(timeoutNanos: UInt64 = 10_000_000_000) -> Bool {
        let deadline = Clock.monotonicNanos() &+ timeoutNanos
        while backlog > 0 {
            if Clock.monotonicNanos() > deadline { return false }
            usleep(1_000)
        }
        return true
    }

    /// Ends the threads after the jobs in hand; queued jobs are dropped. The threads run this
    /// library's code, so this must return before the plugin is unloaded.
    func stop() {
        guard !threads.isEmpty else { return }
        let handles = threads
        threads = []
        shared.box.withLock {
            $0.stopping = true
            $0.inbox.removeAll()
        }
        for _ in handles { sem_post(shared.wake) }
        for handle in handles { pthread_join(handle, nil) }
    }

    deinit {
        stop()
    }
}

/// Starts a POSIX thread running a closure. Not generic: a C function pointer (pthread_create's
/// start routine) cannot carry generic parameters.
enum Thread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    static func start(_ run: @escaping () -> Void) throws(WorkerError) -> pthread_t {
        let argument = Unmanaged.passRetained(Body(run)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { argument in
            Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue().run()
            return nil
        }, argument)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(argument).release()
            throw WorkerError(code: rc)
        }
        return handle
    }
}

/// The system would not start a thread for the plugin.
struct WorkerError: Error, CustomStringConvertible {
    let code: Int32
    var description: String { "cannot start a worker thread (pthread_create: \(code))" }
}
