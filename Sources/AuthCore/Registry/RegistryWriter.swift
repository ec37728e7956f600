/// Pending registrations are written by a thread of the plugin's own. Recording one hashes the
/// presented password and writes a row, and the write may wait for another process's lock (a
/// large `cwauth apply`): on the broker's thread either would stall every client. The broker's
/// thread only queues the attempt; when the queue is full the attempt is dropped and counted.
final class RegistryWriter: Sendable {
    struct Job: Sendable {
        let attempt: RegistrationAttempt
        let maxPending: Int
    }

    struct Written: Sendable {
        let attempt: RegistrationAttempt
        let result: Result<RegistrationOutcome, StoreError>
        /// How long the write took, mostly waiting for another process's write lock.
        let nanos: UInt64
        /// Where the previous file's log was moved to, when this write was the first to open a replaced database.
        var setAside: String?
    }

    /// Attempts waiting for the writer. The gate admits at most `registry_rate` per second, so a
    /// full queue means the database has been locked for many seconds.
    static let capacity = 256
    /// How long one write waits for a lock before the attempt is given up.
    static let busyTimeoutMs: Int32 = 5_000

    private let worker: BackgroundWorker<Job, Written>

    init(path: String) throws(WorkerError) {
        let connection = Connection(path: path)
        worker = try BackgroundWorker(capacity: Self.capacity) { job in connection.record(job) }
    }

    func submit(_ attempt: RegistrationAttempt, maxPending: Int) -> Bool {
        worker.submit(Job(attempt: attempt, maxPending: maxPending))
    }

    func takeWritten() -> [Written] { worker.takeOutputs() }

    func waitUntilIdle() -> Bool { worker.waitUntilIdle() }

    func stop() { worker.stop() }

    /// The writer thread's own connection (SQLite connections are not shared between threads),
    /// opened on first use and again when the file was replaced.
    private final class Connection: @unchecked Sendable {
        let path: String
        var store: Store?
        var files: DatabaseFiles.OpenFiles?
        var setAside: String?

        init(path: String) {
            self.path = path
        }

        func record(_ job: Job) -> Written {
            let start = Clock.monotonicNanos()
            let result = Result { () throws(StoreError) -> RegistrationOutcome in
                try open().recordRegistration(job.attempt, maxPending: job.maxPending)
            }
            if case let .failure(error) = result, !error.isBusy { store = nil }
            defer { setAside = nil }
            return Written(attempt: job.attempt, result: result, nanos: Clock.monotonicNanos() &- start, setAside: setAside)
        }

        /// A replaced file is opened as the broker's thread opens it: old connection closed first,
        /// the previous file's log set aside (see DatabaseFiles.reopen).
        private func open() throws(StoreError) -> Store {
            let current = FileIdentity(path: path)
            if let store, current == files?.database { return store }
            store = nil
            let opened = try DatabaseFiles.reopen(path: path, actor: "broker", busyTimeoutMs: RegistryWriter.busyTimeoutMs,
                                                  previous: files)
            store = opened.store
            files = opened.files
            setAside = opened.setAside
            return opened.store
        }
    }
}
