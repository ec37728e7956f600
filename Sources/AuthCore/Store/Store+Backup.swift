import CSystemLibraries
#if canImport(Glibc)
import Glibc
#endif

/// What a backup or a restore copied.
public struct BackupSummary: Equatable, Sendable {
    public let users: Int
    public let roles: Int
    public let schemaVersion: Int

    public var description: String { "\(users) user\(users == 1 ? "" : "s"), \(roles) role\(roles == 1 ? "" : "s")" }
}

/// Online backup and restore through SQLite's backup API: a consistent copy while the broker,
/// `cwauth serve` and other CLI calls keep working on the database.
extension Store {
    /// Copies the whole database to `target`, one self-contained file (rollback-journal mode, no
    /// `-wal` needed). An existing `target` is replaced only with `force`; either way the copy is made
    /// beside it first and appears whole, under its name, at the end.
    public func backup(to target: String, force: Bool = false) throws(StoreError) -> BackupSummary {
        if !force && access(target, F_OK) == 0 {
            throw .invalid("\(target) already exists (use --force to overwrite it)")
        }
        if let live = FileIdentity(path: path), live == FileIdentity(path: target) {
            throw .invalid("\(target) is the live database itself")
        }
        let temporary = "\(target).partial-\(getpid())"
        unlink(temporary)
        do throws(StoreError) {
            let summary = try Self.copying(from: db, into: temporary)
            // link() fails on an existing name: a file created meanwhile is not overwritten either.
            let placed = force ? rename(temporary, target) : link(temporary, target)
            guard placed == 0 else {
                let reason = String(cString: strerror(errno))
                throw StoreError.invalid(errno == EEXIST ? "\(target) already exists (use --force to overwrite it)"
                                         : "cannot write \(target): \(reason)")
            }
            if !force { unlink(temporary) }
            return summary
        } catch {
            unlink(temporary)
            unlink(temporary + "-journal")
            throw error
        }
    }

    /// The copy is written and closed here, so that its file is complete when this returns.
    private static func copying(from source: SQLiteConnection, into path: String) throws(StoreError) -> BackupSummary {
        let copy = try SQLiteConnection(path: path, flags: [.readWrite, .create], busyTimeoutMs: 5000)
        try runBackup(from: source, into: copy)
        // The pages came with the live file's WAL mark; one file on its own is a rollback-journal database.
        guard try copy.text("PRAGMA journal_mode=DELETE") == "delete" else {
            throw .sqlite(code: SQLITE_ERROR, message: "could not leave WAL mode", path: path)
        }
        let summary = try summarize(copy)
        guard try copy.text("PRAGMA integrity_check") == "ok" else {
            throw .sqlite(code: SQLITE_CORRUPT, message: "the copy failed its integrity check", path: path)
        }
        return summary
    }

    /// Replaces the whole content of this (live) database with `source`'s, in one write transaction
    /// on the same file: other connections (the broker) see an ordinary change and reload. `source`
    /// is opened read-only and must be a sound cwauth database of a schema this build knows; an older
    /// schema is migrated once copied. One audit row records the restore.
    public func restore(from source: String) throws(StoreError) -> BackupSummary {
        if let live = FileIdentity(path: path), live == FileIdentity(path: source) {
            throw .invalid("\(source) is the live database itself")
        }
        let backup = try Self.openBackup(source)
        let liveVersion = try policyVersion()
        try Self.runBackup(from: backup.connection, into: db)
        let restored = try Store(path: path, actor: actor)  // migrates an older schema forward
        let summary = try Self.summarize(restored.db)
        try restored.transaction { () throws(StoreError) in
            // The copy brings its own counter, perhaps the very value the broker last loaded.
            try restored.db.prepare("UPDATE policy_version SET counter = max(counter, ?) + 1 WHERE id = 1")
                .bind(.int(liveVersion)).run()
            try restored.recordAudit("restore", subject: source, detail: "\(summary.description), schema v\(backup.summary.schemaVersion)")
        }
        return summary
    }

    /// Opens a backup read-only and checks it is one of ours, sound, and of a known schema.
    static func openBackup(_ path: String) throws(StoreError) -> (connection: SQLiteConnection, summary: BackupSummary) {
        guard access(path, F_OK) == 0 else { throw .invalid("no file at \(path)") }
        guard access(path, R_OK) == 0 else { throw .invalid("\(path) cannot be read") }
        let connection = try SQLiteConnection(path: path, flags: [.readOnly], busyTimeoutMs: 5000)
        if let problem = DatabaseFiles.headerProblem(connection) {
            throw .invalid("\(path) is not a cwauth database: \(problem)")
        }
        let appID: Int64
        do { appID = try connection.scalarInt("PRAGMA application_id") ?? 0 } catch {
            throw .invalid("\(path) is not a cwauth database (\(error.description))")
        }
        guard appID == Schema.applicationID else { throw .invalid("\(path) is not a cwauth database") }
        let check: String?
        do { check = try connection.text("PRAGMA integrity_check") } catch {
            throw .invalid("\(path) is damaged: \(error.description)")
        }
        guard check == "ok" else { throw .invalid("\(path) is damaged (integrity check: \(check ?? "no answer"))") }
        let summary = try summarize(connection)
        if summary.schemaVersion > Schema.currentVersion {
            throw .invalid("\(path) has schema version \(summary.schemaVersion), newer than this build supports "
                + "(\(Schema.currentVersion)); restore it with a newer cwauth")
        }
        guard summary.schemaVersion >= 1 else { throw .invalid("\(path) is not a cwauth database (no schema version)") }
        return (connection, summary)
    }

    private static func summarize(_ connection: SQLiteConnection) throws(StoreError) -> BackupSummary {
        let hasVersion = try connection.scalarInt(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version'") ?? 0
        let version = hasVersion == 0 ? 0 : Int(try connection.scalarInt("SELECT max(version) FROM schema_version") ?? 0)
        let hasUsers = try connection.scalarInt(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ('users', 'roles')") ?? 0
        guard hasUsers == 2 else { return BackupSummary(users: 0, roles: 0, schemaVersion: version) }
        return BackupSummary(users: Int(try connection.scalarInt("SELECT count(*) FROM users") ?? 0),
                             roles: Int(try connection.scalarInt("SELECT count(*) FROM roles") ?? 0),
                             schemaVersion: version)
    }

    /// sqlite3_backup_step over all pages at once: one read transaction on the source (a consistent
    /// state), one write transaction on the target. A busy target is waited for up to 10 s.
    static func runBackup(from source: SQLiteConnection, into target: SQLiteConnection) throws(StoreError) {
        guard let backup = sqlite3_backup_init(target.handle, "main", source.handle, "main") else {
            throw .sqlite(code: sqlite3_extended_errcode(target.handle), message: target.lastError, path: target.path)
        }
        var rc: Int32
        var waited = 0
        repeat {
            rc = sqlite3_backup_step(backup, -1)
            let primary = rc & 0xff
            guard primary == SQLITE_BUSY || primary == SQLITE_LOCKED, waited < 10_000 else { break }
            usleep(50_000)
            waited += 50
        } while true
        let finished = sqlite3_backup_finish(backup)
        if rc != SQLITE_DONE {
            let failedOn = (rc & 0xff == SQLITE_BUSY || rc & 0xff == SQLITE_LOCKED) ? target : source
            throw .sqlite(code: rc, message: String(cString: sqlite3_errstr(rc)), path: failedOn.path)
        }
        if finished != SQLITE_OK {
            throw .sqlite(code: finished, message: target.lastError, path: target.path)
        }
    }
}
