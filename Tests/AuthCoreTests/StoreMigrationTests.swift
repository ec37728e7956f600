#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import AuthCore

// Opening and creating the database: a new file is fully set up, a second open changes nothing, and
// every file that is not a usable cwauth database is refused with a clear error and left untouched.
@Suite struct StoreMigrationTests {

    private func text(_ store: Store, _ sql: String) throws -> String {
        let stmt = try store.db.prepare(sql)
        guard try stmt.step() else { return "" }
        return stmt.text(0)
    }

    /// A plain SQLite file written by somebody else.
    private func foreignDatabase(at path: String, _ statements: [String]) throws {
        let connection = try SQLiteConnection(path: path, flags: [.readWrite, .create], busyTimeoutMs: 1000)
        for sql in statements { try connection.execute(sql) }
    }

    // MARK: - a new database

    @Test func newDatabaseHasCurrentSchemaWalForeignKeysAndApplicationID() throws {
        let dir = TemporaryDirectory()
        let (store, created) = try Store.initialize(path: dir.database, actor: "cli:test")
        #expect(created)
        #expect(try store.schemaVersion() == Schema.currentVersion)
        #expect(try text(store, "PRAGMA journal_mode") == "wal")
        #expect(try store.db.scalarInt("PRAGMA foreign_keys") == 1)
        #expect(try store.db.scalarInt("PRAGMA application_id") == Schema.applicationID)
        let tables = try store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        var names: [String] = []
        while try tables.step() { names.append(tables.text(0)) }
        #expect(names == ["audit_log", "certificate_authority", "certificates", "pending_registrations", "permissions", "policy_version",
                          "registry_blocklist", "registry_window", "roles", "schema_version", "user_roles", "users"])
        #expect(try store.registryWindow() == RegistryWindow(openUntil: 0))
        let log = try store.auditLog()
        #expect(log.count == 1)
        #expect(log.first?.action == "init")
        #expect(log.first?.actor == "cli:test")
        #expect(log.first?.detail == "schema v\(Schema.currentVersion)")
    }

    @Test func reopenedStoreTurnsForeignKeysOnAgain() throws {
        // foreign_keys is per connection, not stored in the file: every open must set it.
        let db = try TestDatabase()
        let second = try db.connect()
        #expect(try second.db.scalarInt("PRAGMA foreign_keys") == 1)
        #expect(try text(second, "PRAGMA journal_mode") == "wal")
    }

    @Test func initialisingTwiceIsHarmless() throws {
        let dir = TemporaryDirectory()
        let first = try Store.initialize(path: dir.database, actor: "cli:test").store
        try first.addRole("keep-me")
        let (second, created) = try Store.initialize(path: dir.database, actor: "cli:test")
        #expect(!created)
        #expect(try second.listRoles().map(\.name) == ["keep-me"])
        #expect(try second.db.scalarInt("SELECT count(*) FROM schema_version") == Int64(Schema.currentVersion))
        #expect(try second.auditLog().filter { $0.action == "init" }.count == 1)
    }

    @Test func twoConnectionsSeeEachOthersWrites() throws {
        let db = try TestDatabase()
        let other = try db.connect()
        try db.store.addRole("shared")
        #expect(try other.role(named: "shared") != nil)
    }

    @Test func emptyFileIsInitialisedInPlace() throws {
        // `touch cwauth.db && cwauth init` is a reasonable thing to do.
        let dir = TemporaryDirectory()
        Files.write(dir.database, [])
        let (store, created) = try Store.initialize(path: dir.database, actor: "cli:test")
        #expect(created)
        #expect(try store.schemaVersion() == Schema.currentVersion)
    }

    @Test func emptySQLiteDatabaseIsMigratedFromVersionZero() throws {
        // Version 0 is "no schema yet": the only older state a file can be in while there is one migration.
        let dir = TemporaryDirectory()
        try foreignDatabase(at: dir.database, [])
        let store = try Store.initialize(path: dir.database, actor: "cli:test").store
        #expect(try store.schemaVersion() == Schema.currentVersion)
        #expect(try store.db.scalarInt("PRAGMA application_id") == Schema.applicationID)
    }

    /// A database as an older cwauth left it: only the first `version` migrations, with data in it.
    private func databaseAtVersion(_ version: Int, path: String) throws {
        let connection = try SQLiteConnection(path: path, flags: [.readWrite, .create], busyTimeoutMs: 1000)
        try connection.execute("PRAGMA journal_mode=WAL")
        try connection.execute("PRAGMA application_id=\(Schema.applicationID)")
        for index in 0..<version {
            for sql in Schema.migrations[index] { try connection.execute(sql) }
            try connection.execute("INSERT INTO schema_version(version, applied_at) VALUES (\(index + 1), 0)")
        }
        // Rows in the version-1 tables, written with version-1 columns only.
        let hash = TestHash.make("old-password")
        try connection.execute("""
            INSERT INTO roles(id, name, created_at, updated_at) VALUES (1, 'legacy', 1, 1);
            INSERT INTO permissions(role_id, resource, operation, context) VALUES (1, 'old/#', 'read', 'mqtt');
            INSERT INTO users(id, username, password_hash, enabled, origin, created_at, updated_at)
                VALUES (1, 'old-device', '\(hash)', 1, 'registry', 1, 1);
            INSERT INTO user_roles(user_id, role_id) VALUES (1, 1);
            INSERT INTO pending_registrations(username, password_hash, first_seen, last_seen)
                VALUES ('waiting-1', '\(hash)', 1, 1);
            """)
    }

    @Test func everyOlderSchemaIsMigratedForwardKeepingItsData() throws {
        for version in 1...Schema.currentVersion {
            let dir = TemporaryDirectory()
            try databaseAtVersion(version, path: dir.database)
            let store = try Store(path: dir.database, actor: "cli:test")
            #expect(try store.schemaVersion() == Schema.currentVersion, "from v\(version)")
            #expect(try store.db.scalarInt("SELECT count(*) FROM schema_version") == Int64(Schema.currentVersion))
            let user = try store.requireUser("old-device")
            #expect(user.roles == ["legacy"], "from v\(version)")
            #expect(user.origin == .registry)
            #expect(try PasswordHash(parsing: user.passwordHash).verify("old-password"))
            #expect(try store.requireRole("legacy").permissions == [Permission(resource: "old/#", operation: .read)])
            #expect(try store.pendingRequest("waiting-1", now: 2)?.attempts == 1, "from v\(version)")
            #expect(user.authMethod == .password, "from v\(version)")
            // Version 5's trigger replaced version 4's: a change of login method still reaches the broker.
            let before = try store.policyVersion()
            try store.db.execute("UPDATE users SET auth_method = 'certificate' WHERE username = 'old-device'")
            #expect(try store.policyVersion() == before + 1, "from v\(version)")
            try store.db.execute("UPDATE users SET auth_method = 'password' WHERE username = 'old-device'")
            // A migrated store takes new writes like a fresh one.
            try store.addRole("after-migration")
            #expect(try Store(path: dir.database, actor: "cli:test").role(named: "after-migration") != nil)
        }
    }

    // MARK: - refusals, each leaving the file as it was

    @Test func missingFileIsNotCreatedByOpen() {
        let dir = TemporaryDirectory()
        let error = storeError { () throws(StoreError) in try Store(path: dir.database, actor: "cli:test") }
        #expect(error == .noDatabase(path: dir.database))
        #expect(error?.description == "no database at \(dir.database) (create one with `cwauth init`)")
        #expect(!Files.exists(dir.database))
    }

    @Test func initInMissingDirectoryFailsWithTheReason() {
        let dir = TemporaryDirectory()
        let path = dir.file("no-such-dir/cwauth.db")
        let error = storeError { () throws(StoreError) in try Store.initialize(path: path, actor: "cli:test") }
        guard case let .cannotOpen(reportedPath, reason) = error else {
            Issue.record("expected cannotOpen, got \(String(describing: error))")
            return
        }
        #expect(reportedPath == path)
        #expect(!reason.isEmpty)
        #expect(error?.description.hasPrefix("cannot open database \(path): ") == true)
    }

    @Test(arguments: [
        Array("this is a text file, not a database\n".utf8),
        Array(repeating: UInt8(0xA5), count: 4096),
        Array("SQLite format 3\0".utf8) + Array(repeating: UInt8(0xFF), count: 2000),
    ])
    func garbageIsNotADatabase(bytes: [UInt8]) {
        let dir = TemporaryDirectory()
        Files.write(dir.database, bytes)
        let opened = storeError { () throws(StoreError) in try Store(path: dir.database, actor: "cli:test") }
        let initialised = storeError { () throws(StoreError) in try Store.initialize(path: dir.database, actor: "cli:test") }
        #expect(opened == .notACwauthDatabase(path: dir.database))
        #expect(initialised == .notACwauthDatabase(path: dir.database))
        #expect(opened?.description == "\(dir.database) is not a cwauth database")
        Files.unchanged(dir.database, from: bytes)
    }

    @Test func someoneElsesSQLiteDatabaseIsRefused() throws {
        let dir = TemporaryDirectory()
        try foreignDatabase(at: dir.database, ["CREATE TABLE users(name TEXT)", "INSERT INTO users VALUES ('theirs')"])
        let before = Files.read(dir.database)
        #expect(storeError { () throws(StoreError) in try Store(path: dir.database, actor: "cli:test") }
                == .notACwauthDatabase(path: dir.database))
        #expect(storeError { () throws(StoreError) in try Store.initialize(path: dir.database, actor: "cli:test") }
                == .notACwauthDatabase(path: dir.database))
        Files.unchanged(dir.database, from: before)
    }

    @Test func otherApplicationIDIsRefusedEvenWithoutTables() throws {
        let dir = TemporaryDirectory()
        try foreignDatabase(at: dir.database, ["PRAGMA application_id = 1234"])
        let before = Files.read(dir.database)
        #expect(storeError { () throws(StoreError) in try Store.initialize(path: dir.database, actor: "cli:test") }
                == .notACwauthDatabase(path: dir.database))
        Files.unchanged(dir.database, from: before)
    }

    @Test func emptyDatabaseIsNotOpenedWithoutInit() throws {
        // Only `init` may claim a blank file; the broker and ordinary commands must not.
        let dir = TemporaryDirectory()
        Files.write(dir.database, [])
        #expect(storeError { () throws(StoreError) in try Store(path: dir.database, actor: "broker") }
                == .notACwauthDatabase(path: dir.database))
        #expect(Files.read(dir.database) == [])
    }

    @Test func newerSchemaIsRefusedAndLeftAlone() throws {
        let dir = TemporaryDirectory()
        do {
            let store = try Store.initialize(path: dir.database, actor: "cli:future").store
            try store.db.execute("INSERT INTO schema_version(version, applied_at) VALUES (\(Schema.currentVersion + 1), 0)")
        } // closing the last connection checkpoints the WAL into the main file
        let before = Files.read(dir.database)
        let found = Schema.currentVersion + 1
        let expected = StoreError.schemaTooNew(path: dir.database, found: found, supported: Schema.currentVersion)
        let opened = storeError { () throws(StoreError) in try Store(path: dir.database, actor: "cli:test") }
        #expect(opened == expected)
        #expect(opened?.description == """
            database \(dir.database) has schema version \(found), newer than this build supports \
            (\(Schema.currentVersion)); upgrade cwauth
            """)
        #expect(storeError { () throws(StoreError) in try Store.initialize(path: dir.database, actor: "cli:test") } == expected)
        Files.unchanged(dir.database, from: before)
    }
}
