#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import AuthCore

// Online backup and restore through SQLite's backup API, and a database file replaced under a running
// broker: the new file is read on its own, never merged with the old file's write-ahead log.
@Suite struct BackupRestoreTests {
    static let second: UInt64 = 1_000_000_000

    static func populated() throws -> TestDatabase {
        let db = try TestDatabase(actor: "cli:admin")
        try db.store.addRole("writer")
        try db.store.grant("writer", Permission(resource: "factory/#", operation: .write))
        try db.store.addUser(User(username: "sensor-1", passwordHash: TestHash.make("sensor-pass"), roles: ["writer"]))
        try db.store.addUser(User(username: "sensor-2", passwordHash: TestHash.make("sensor-pass"), roles: ["writer"]))
        return db
    }

    static func journalMode(_ path: String) throws -> String? {
        try SQLiteConnection(path: path, flags: [.readOnly], busyTimeoutMs: 1000).text("PRAGMA journal_mode")
    }

    @Test func backupIsOneSelfContainedFileAndRestoreBringsItBack() throws {
        let db = try Self.populated()
        let copy = db.directory.file("copy.db")
        let summary = try db.store.backup(to: copy)
        #expect(summary.users == 2 && summary.roles == 1)
        #expect(!Files.exists(copy + "-wal") && !Files.exists(copy + "-journal"))
        #expect(try Self.journalMode(copy) == "delete")

        try db.store.setEnabled("sensor-1", false)
        try db.store.removeUser("sensor-2")
        try db.store.addUser(User(username: "late", passwordHash: TestHash.make("late-pass")))

        let other = try db.connect(actor: "cli:ops")   // another connection, like the broker's, stays open
        let restored = try other.restore(from: copy)
        #expect(restored == BackupSummary(users: 2, roles: 1, schemaVersion: Schema.currentVersion))
        let users = try db.store.listUsers()
        #expect(users.map(\.username) == ["sensor-1", "sensor-2"])
        #expect(users.allSatisfy { $0.enabled })
        #expect(try db.store.user(named: "sensor-1")?.roles == ["writer"])
        #expect(try Self.journalMode(db.path) == "wal", "the live database stays in WAL mode")
        let last = try #require(try db.store.auditLog(limit: 1).first)
        #expect(last.action == "restore" && last.subject == copy && last.actor == "cli:ops")
    }

    @Test func backupKeepsAnExistingFileUnlessForced() throws {
        let db = try Self.populated()
        let target = db.directory.file("taken.db")
        Files.write(target, Array("precious".utf8))
        let error = storeError { () throws(StoreError) in try db.store.backup(to: target) }
        #expect(error?.description.contains("already exists") == true)
        Files.unchanged(target, from: Array("precious".utf8))
        #expect(try db.store.backup(to: target, force: true).users == 2)
        #expect(try Self.journalMode(target) == "delete")
        #expect(storeError { () throws(StoreError) in try db.store.backup(to: db.path, force: true) } != nil, "never over the live file")
    }

    @Test func restoreRefusesWhatIsNotASoundCwauthDatabase() throws {
        let db = try Self.populated()
        let before = try db.store.listUsers()
        let garbage = db.directory.file("garbage.db")
        Files.write(garbage, Array(repeating: 0x41, count: 8192))
        #expect(storeError { () throws(StoreError) in try db.store.restore(from: garbage) }?.description.contains("not a cwauth database") == true)

        let foreign = db.directory.file("foreign.db")
        try SQLiteConnection(path: foreign, flags: [.readWrite, .create], busyTimeoutMs: 1000).execute("CREATE TABLE t(x)")
        #expect(storeError { () throws(StoreError) in try db.store.restore(from: foreign) }?.description.contains("not a cwauth database") == true)

        let newer = db.directory.file("newer.db")
        _ = try db.store.backup(to: newer)
        try SQLiteConnection(path: newer, flags: [.readWrite], busyTimeoutMs: 1000)
            .execute("INSERT INTO schema_version(version, applied_at) VALUES (\(Schema.currentVersion + 1), 0)")
        let tooNew = storeError { () throws(StoreError) in try db.store.restore(from: newer) }
        #expect(tooNew?.description.contains("newer than this build supports") == true)

        #expect(storeError { () throws(StoreError) in try db.store.restore(from: db.directory.file("absent.db")) } != nil)
        #expect(try db.store.listUsers() == before)
    }

    // The broker holds the database open with frames in its log; a copy in which sensor-1 is disabled
    // is moved into place. Before, the new connection replayed the old file's log onto the copy and
    // sensor-1 was enabled again.
    @Test func aFileMovedIntoPlaceIsReadWithoutTheOldFilesLog() throws {
        let db = try Self.populated()
        let log = LogLines()
        let core = try BrokerCore(options: PluginOptions(databasePath: db.path), log: log.logger)
        let cli = try db.connect(actor: "cli:admin")
        try cli.addUser(User(username: "late", passwordHash: TestHash.make("late-pass")))  // more frames in the log
        let copy = db.directory.file("copy.db")
        _ = try cli.backup(to: copy)
        try Store(path: copy, actor: "cli:admin").setEnabled("sensor-1", false)
        try cli.setPassword("sensor-2", hash: TestHash.make("other-pass"))
        #expect(Files.exists(db.path + "-wal"))

        #expect(rename(copy, db.path) == 0)
        let kicked = core.tick(now: 1 * Self.second)
        #expect(kicked == ["sensor-1"])
        #expect(core.snapshot.users["sensor-1"]?.enabled == false)
        #expect(core.authenticate(username: "sensor-2", password: "sensor-pass", clientId: "c", address: "127.0.0.1") == .allow)
        #expect(log.matching(.warning, "was replaced by another file").count == 1)
        #expect(log.matching(.warning, "write-ahead log was moved to \(db.path)-wal.stale-").count == 1)

        // The new file is the database from now on: changes to it are followed as usual.
        let after = try db.connect(actor: "cli:admin")
        try after.setEnabled("sensor-1", true)
        _ = core.tick(now: 2 * Self.second)
        #expect(core.snapshot.users["sensor-1"]?.enabled == true)
        #expect(try after.db.text("PRAGMA integrity_check") == "ok")
        #expect(log.matching(.warning, "was replaced").count == 1)
    }

    @Test func aCorruptHeaderIsLoggedOnceAndTheLastSnapshotServes() throws {
        let db = try Self.populated()
        let log = LogLines()
        let core = try BrokerCore(options: PluginOptions(databasePath: db.path), log: log.logger)
        let original = try #require(Files.read(db.path))
        guard let file = fopen(db.path, "r+b") else { throw StoreError.invalid("cannot open \(db.path)") }
        _ = fwrite(Array("this is not a database".utf8), 1, 22, file)
        fclose(file)
        _ = core.tick(now: 1 * Self.second)
        _ = core.tick(now: 2 * Self.second)
        #expect(log.matching(.warning, "has a corrupt header").count == 1)
        #expect(core.authenticate(username: "sensor-1", password: "sensor-pass", clientId: "c", address: "127.0.0.1") == .allow)

        Files.write(db.path, original)
        _ = core.tick(now: 3 * Self.second)
        #expect(log.matching(.notice, "is readable again").count == 1)
    }

    @Test func headerChecks() {
        var header = Array("SQLite format 3".utf8) + [0, 0x10, 0x00] + [UInt8](repeating: 0, count: 82)
        header[68...71] = [0x63, 0x77, 0x61, 0x75]
        #expect(DatabaseFiles.headerProblem(header, size: 8192) == nil)
        #expect(DatabaseFiles.headerProblem(header, size: 8000)?.contains("not a whole number") == true)
        header[68] = 1
        #expect(DatabaseFiles.headerProblem(header, size: 8192)?.contains("application id") == true)
        header[0] = 0x73
        #expect(DatabaseFiles.headerProblem(header, size: 8192)?.contains("header starts with") == true)
    }
}
