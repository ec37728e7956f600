import AuthCore
import Logging
import Prometheus

/// The server's one connection to the SQLite file. `Store` is a single connection and not Sendable, so
/// requests take turns here; each call is short (a few statements), and writes commit before the next
/// caller runs, so the broker's change probe sees them at once. Busy waits use the store's busy_timeout.
actor StoreService {
    private let store: Store
    /// Audit name for writes nobody authenticated (the registration door).
    static let anonymousActor = "http"
    private let writeDuration: DurationHistogram
    /// The file this connection has open, to tell it from a file put at the path later.
    private let identity: FileIdentity?
    /// The last health problem logged, so that a probe every few seconds logs a change once.
    private var lastProblem: Health.ProblemDetail?

    init(path: String, writeDuration: DurationHistogram) throws(StoreError) {
        store = try Store(path: path, actor: Self.anonymousActor)
        self.writeDuration = writeDuration
        identity = FileIdentity(path: path)
    }

    /// Reads (or store calls that manage their own transaction) without naming an actor.
    func read<T: Sendable>(_ body: @Sendable (Store) throws -> T) throws -> T {
        try mapped { try body(store) }
    }

    /// Writes audited under `actor` (e.g. "http:alice"); the store's own calls are each one transaction.
    func write<T: Sendable>(as actor: String, _ body: @Sendable (Store) throws -> T) throws -> T {
        store.actor = actor
        let start = ContinuousClock.now
        defer {
            writeDuration.record(ContinuousClock.now - start)
            store.actor = Self.anonymousActor
        }
        return try mapped { try body(store) }
    }

    /// GET /healthz: the file at the path is still the one this connection has, a fresh read-only reader
    /// finds the schema version and the policy counter, and this connection reads the counter too.
    /// Runs in turn with the requests, so a store stuck behind a long write shows as a slow probe.
    func health(logger: Logger) -> Result<Health.Report, Health.Problem> {
        switch check() {
        case let .success(report):
            if lastProblem != nil { logger.notice("health: the database is readable again") }
            lastProblem = nil
            return .success(report)
        case let .failure(detail):
            if detail != lastProblem {
                logger.warning("health: \(detail.problem.publicMessage) (\(store.path): \(detail.detail))")
            }
            lastProblem = detail
            return .failure(detail.problem)
        }
    }

    private func check() -> Result<Health.Report, Health.ProblemDetail> {
        switch Health.fileIdentity(store.path) {
        case let .failure(problem):
            return .failure(Health.ProblemDetail(problem, "stat failed"))
        case let .success(now):
            if let identity, now != identity {
                return .failure(Health.ProblemDetail(.replaced, "another file is at the path"))
            }
        }
        // The fresh reader first: it gives up on a lock after a quarter second, this connection after 5 s.
        let fresh: Health.Report
        switch Health.readVersions(path: store.path) {
        case let .failure(detail): return .failure(detail)
        case let .success(report): fresh = report
        }
        do {
            return .success(Health.Report(schemaVersion: fresh.schemaVersion, policyVersion: try store.policyVersion()))
        } catch {
            return .failure(Health.ProblemDetail(.from(error), error.description))
        }
    }

    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw APIError.from(error)
        }
    }
}
