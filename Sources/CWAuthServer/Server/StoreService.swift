import AuthCore

/// The server's one connection to the SQLite file. `Store` is a single connection and not Sendable, so
/// requests take turns here; each call is short (a few statements), and writes commit before the next
/// caller runs, so the broker's change probe sees them at once. Busy waits use the store's busy_timeout.
actor StoreService {
    private let store: Store
    /// Audit name for writes nobody authenticated (the registration door).
    static let anonymousActor = "http"

    init(path: String) throws(StoreError) {
        store = try Store(path: path, actor: Self.anonymousActor)
    }

    /// Reads (or store calls that manage their own transaction) without naming an actor.
    func read<T: Sendable>(_ body: @Sendable (Store) throws -> T) throws -> T {
        try mapped { try body(store) }
    }

    /// Writes audited under `actor` (e.g. "http:alice"); the store's own calls are each one transaction.
    func write<T: Sendable>(as actor: String, _ body: @Sendable (Store) throws -> T) throws -> T {
        store.actor = actor
        defer { store.actor = Self.anonymousActor }
        return try mapped { try body(store) }
    }

    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw APIError.from(error)
        }
    }
}
