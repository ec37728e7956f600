import CSystemLibraries
#if canImport(Glibc)
import Glibc
#endif

/// The one SQLite file behind users, roles, the registry and the audit log.
/// Every public write is one transaction that also appends to the audit log.
public final class Store {
    public let path: String
    /// Who the audit log names for changes made through this store (e.g. "cli:root", "broker", "admin:ops").
    public var actor: String
    let db: SQLiteConnection

    /// Opens an existing cwauth database, migrating its schema forward if needed.
    public convenience init(path: String, actor: String, busyTimeoutMs: Int32 = 5000) throws(StoreError) {
        guard access(path, F_OK) == 0 else { throw .noDatabase(path: path) }
        try self.init(path: path, actor: actor,
                      connection: try SQLiteConnection(path: path, flags: [.readWrite], busyTimeoutMs: busyTimeoutMs))
    }

    /// Over a connection opened (and looked at) by the caller, before any statement ran on it.
    init(path: String, actor: String, connection: SQLiteConnection) throws(StoreError) {
        self.path = path
        self.actor = actor
        self.db = connection
        try verifyOwnership(allowEmpty: false)
        try configure()
        try useWriteAheadLog()
        try migrate()
    }

    /// A backup is kept in rollback-journal mode, one self-contained file; put in place by hand, it is
    /// switched back to WAL (the broker reads while the CLI writes) as soon as nobody else has it open.
    private func useWriteAheadLog() throws(StoreError) {
        guard try db.text("PRAGMA journal_mode") == "delete" else { return }
        _ = try? db.text("PRAGMA journal_mode=WAL")
    }

    private init(creating path: String, actor: String) throws(StoreError) {
        self.path = path
        self.actor = actor
        self.db = try SQLiteConnection(path: path, flags: [.readWrite, .create], busyTimeoutMs: 5000)
    }

    /// Creates the database (or finishes migrating an existing one). Returns whether anything was created.
    @discardableResult
    public static func initialize(path: String, actor: String) throws(StoreError) -> (store: Store, created: Bool) {
        let existed = access(path, F_OK) == 0
        let store = try Store(creating: path, actor: actor)
        try store.verifyOwnership(allowEmpty: true)
        let before = try store.schemaVersion()
        if before == 0 {
            // WAL lets the broker read while the CLI writes; the mode is stored in the file.
            _ = try store.db.scalarInt("PRAGMA journal_mode=WAL")
            try store.db.execute("PRAGMA application_id=\(Schema.applicationID)")
        }
        try store.configure()
        try store.migrate()
        if before == 0 {
            try store.db.writeTransaction { () throws(StoreError) in
                try store.audit("init", subject: store.path, detail: "schema v\(Schema.currentVersion)")
            }
        }
        return (store, !existed || before == 0)
    }

    private func configure() throws(StoreError) {
        try db.execute("PRAGMA foreign_keys=ON")
        // NORMAL is durable across application crashes in WAL mode and keeps commits off fsync.
        try db.execute("PRAGMA synchronous=NORMAL")
    }

    /// Refuses files that are not SQLite, or SQLite databases that belong to something else.
    private func verifyOwnership(allowEmpty: Bool) throws(StoreError) {
        let appID: Int64
        do {
            appID = try db.scalarInt("PRAGMA application_id") ?? 0
        } catch {
            throw .notACwauthDatabase(path: path)
        }
        if appID == Schema.applicationID { return }
        let tables: Int64
        do {
            tables = try db.scalarInt("SELECT count(*) FROM sqlite_master") ?? 0
        } catch {
            throw .notACwauthDatabase(path: path)
        }
        if !(allowEmpty && tables == 0 && appID == 0) { throw .notACwauthDatabase(path: path) }
    }

    func schemaVersion() throws(StoreError) -> Int {
        let hasTable = try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version'") ?? 0
        if hasTable == 0 { return 0 }
        return Int(try db.scalarInt("SELECT max(version) FROM schema_version") ?? 0)
    }

    private func migrate() throws(StoreError) {
        let version = try schemaVersion()
        if version > Schema.currentVersion {
            throw .schemaTooNew(path: path, found: version, supported: Schema.currentVersion)
        }
        guard version < Schema.currentVersion else { return }
        try db.writeTransaction { () throws(StoreError) in
            // Re-read under the write lock: another process may have migrated meanwhile.
            let current = try schemaVersion()
            for index in current..<Schema.currentVersion {
                for sql in Schema.migrations[index] { try db.execute(sql) }
                try db.prepare("INSERT INTO schema_version(version, applied_at) VALUES (?, ?)")
                    .bind(.int(Int64(index + 1)), .int(Clock.unixNow())).run()
            }
        }
    }

    /// Changes with every commit that changes what the broker decides from (users, roles,
    /// permissions, assignments, the registry window), and only then: the plugin's probe.
    public func policyVersion() throws(StoreError) -> Int64 {
        try db.scalarInt("SELECT counter FROM policy_version WHERE id = 1") ?? 0
    }

    /// Runs several store calls as one transaction (apply, allow with roles, …).
    public func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try guardedWriteTransaction(body)
    }

    func audit(_ action: String, subject: String, detail: String = "", at: Int64 = Clock.unixNow()) throws(StoreError) {
        try db.prepare("INSERT INTO audit_log(at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)")
            .bind(.int(at), .text(actor), .text(action), .text(subject), .text(detail)).run()
    }

    /// Runs `body` in a write transaction unless one is already open (so composite operations stay atomic).
    /// The transaction refuses to remove the last admin (see Store+Admins.swift).
    func write<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        if sqlite3_get_autocommit(db.handle) == 0 { return try body() }
        return try guardedWriteTransaction(body)
    }

    /// Appends one audit row in its own transaction, for actions that change nothing else (e.g. an admin's login).
    public func recordAudit(_ action: String, subject: String, detail: String = "",
                            now: Int64 = Clock.unixNow()) throws(StoreError) {
        try write { () throws(StoreError) in try audit(action, subject: subject, detail: detail, at: now) }
    }

    /// Newest first, entries older than `before` (an id) when given: pages stay stable while rows are appended.
    /// Audit entries `cwauth audit` and GET /api/audit show when no limit is given.
    public static let defaultAuditLimit = 50

    public func auditLog(limit: Int, before: Int64?) throws(StoreError) -> [AuditEntry] {
        let stmt = try db.prepare("""
            SELECT id, at, actor, action, subject, detail FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?
            """).bind(.int(before ?? Int64.max), .int(Int64(limit)))
        var out: [AuditEntry] = []
        while try stmt.step() {
            out.append(AuditEntry(id: stmt.int64(0), at: stmt.int64(1), actor: stmt.text(2), action: stmt.text(3),
                                  subject: stmt.text(4), detail: stmt.text(5)))
        }
        return out
    }

    public func auditLog(limit: Int = 100, offset: Int = 0) throws(StoreError) -> [AuditEntry] {
        let stmt = try db.prepare("SELECT id, at, actor, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT ? OFFSET ?")
            .bind(.int(Int64(limit)), .int(Int64(offset)))
        var out: [AuditEntry] = []
        while try stmt.step() {
            out.append(AuditEntry(id: stmt.int64(0), at: stmt.int64(1), actor: stmt.text(2), action: stmt.text(3),
                                  subject: stmt.text(4), detail: stmt.text(5)))
        }
        return out
    }
}
