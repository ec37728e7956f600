#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import AuthCore

// Users, roles and permissions in the store: what each write leaves behind, what it refuses, and
// that each one is a single transaction with exactly one audit row naming who did what to whom.
@Suite struct StoreTests {
    static let hash = TestHash.make("sensor-pass-1")

    private func user(_ name: String, roles: [String] = [], prefix: String? = nil) -> User {
        User(username: name, passwordHash: Self.hash, roles: roles, publishPrefix: prefix)
    }

    /// A database with role `writer` (write on factory/#) and user `sensor-1` holding it.
    private func populated() throws -> TestDatabase {
        let db = try TestDatabase()
        try db.store.addRole("writer", now: 100)
        try db.store.grant("writer", Permission(resource: "factory/#", operation: .write), now: 100)
        try db.store.addUser(user("sensor-1", roles: ["writer"]), now: 100)
        return db
    }

    // MARK: - users

    @Test func addedUserReadsBackWithEveryField() throws {
        let db = try TestDatabase()
        try db.store.addRole("b-role")
        try db.store.addRole("a-role")
        try db.store.addUser(User(username: "sensor-1", passwordHash: Self.hash, enabled: false,
                                  roles: ["b-role", "a-role"], publishPrefix: "site1/", origin: .apply), now: 42)
        let stored = try db.store.requireUser("sensor-1")
        #expect(stored == User(username: "sensor-1", passwordHash: Self.hash, enabled: false, roles: ["a-role", "b-role"],
                               publishPrefix: "site1/", origin: .apply, createdAt: 42, updatedAt: 42))
        #expect(try db.store.listUsers() == [stored])
        #expect(try db.store.members(ofRole: "a-role") == ["sensor-1"])
    }

    @Test func usernamesAreUnique() throws {
        let db = try populated()
        let error = storeError { () throws(StoreError) in try db.store.addUser(user("sensor-1")) }
        #expect(error == .alreadyExists(kind: "user", name: "sensor-1"))
        #expect(error?.description == "user \"sensor-1\" already exists")
        #expect(try db.store.listUsers().count == 1)
    }

    @Test(arguments: [
        ("ab", "must be 3 to 256 characters"),
        ("a/b/c", "may not contain '+', '#' or '/'"),
        ("dev+1", "may not contain '+', '#' or '/'"),
        ("two words", "may contain only printable characters and no whitespace"),
    ])
    func invalidUsernamesAreRefused(name: String, reason: String) throws {
        let db = try TestDatabase()
        let before = try db.audit().count
        let error = storeError { () throws(StoreError) in try db.store.addUser(user(name)) }
        #expect(error == .invalid("invalid username \"\(name)\": \(reason)"))
        #expect(try db.store.listUsers().isEmpty)
        #expect(try db.audit().count == before)
    }

    @Test func invalidPasswordHashIsRefused() throws {
        let db = try TestDatabase()
        let error = storeError { () throws(StoreError) in
            try db.store.addUser(User(username: "sensor-1", passwordHash: "plain-text-password"))
        }
        guard case let .invalid(message) = error else {
            Issue.record("expected .invalid, got \(String(describing: error))")
            return
        }
        #expect(message.hasPrefix("invalid password hash: "))
        #expect(try db.store.user(named: "sensor-1") == nil)
    }

    @Test func userWithUnknownRoleIsNotCreatedAtAll() throws {
        // The INSERT of the user runs before the role lookup fails: the transaction must take it back.
        let db = try TestDatabase()
        let error = storeError { () throws(StoreError) in try db.store.addUser(user("sensor-1", roles: ["ghost"])) }
        #expect(error == .notFound(kind: "role", name: "ghost"))
        #expect(error?.description == "no role named \"ghost\"")
        #expect(try db.store.user(named: "sensor-1") == nil)
        #expect(try db.audit().map(\.action) == ["init"])
    }

    @Test func passwordEnableAndPrefixChanges() throws {
        let db = try populated()
        let newHash = TestHash.make("another-pass")
        try db.store.setPassword("sensor-1", hash: newHash, now: 200)
        try db.store.setEnabled("sensor-1", false, now: 201)
        try db.store.setPublishPrefix("sensor-1", "site1/", now: 202)
        var stored = try db.store.requireUser("sensor-1")
        #expect(stored.passwordHash == newHash)
        #expect(!stored.enabled)
        #expect(stored.publishPrefix == "site1/")
        #expect(stored.createdAt == 100)
        #expect(stored.updatedAt == 202)
        try db.store.setEnabled("sensor-1", true, now: 203)
        try db.store.setPublishPrefix("sensor-1", nil, now: 204)
        stored = try db.store.requireUser("sensor-1")
        #expect(stored.enabled)
        #expect(stored.publishPrefix == nil)
    }

    @Test(arguments: ["", "site/+/", "site/#", "a\0b"])
    func invalidPublishPrefixIsRefused(prefix: String) throws {
        let db = try populated()
        let error = storeError { () throws(StoreError) in try db.store.setPublishPrefix("sensor-1", prefix) }
        guard case let .invalid(message) = error else {
            Issue.record("expected .invalid, got \(String(describing: error))")
            return
        }
        #expect(message.hasPrefix("invalid publish prefix \""))
        #expect(try db.store.requireUser("sensor-1").publishPrefix == nil)
    }

    @Test func badHashForPasswdIsRefused() throws {
        let db = try populated()
        #expect(storeError { () throws(StoreError) in try db.store.setPassword("sensor-1", hash: "$7$nope") } != nil)
        #expect(try db.store.requireUser("sensor-1").passwordHash == Self.hash)
    }

    @Test func writesToUnknownUsersSayWhichUser() throws {
        let db = try populated()
        let missing = StoreError.notFound(kind: "user", name: "ghost")
        #expect(storeError { () throws(StoreError) in try db.store.setEnabled("ghost", false) } == missing)
        #expect(storeError { () throws(StoreError) in try db.store.setPassword("ghost", hash: Self.hash) } == missing)
        #expect(storeError { () throws(StoreError) in try db.store.setPublishPrefix("ghost", "p/") } == missing)
        #expect(storeError { () throws(StoreError) in try db.store.removeUser("ghost") } == missing)
        #expect(storeError { () throws(StoreError) in try db.store.assign("ghost", role: "writer") } == missing)
        #expect(storeError { () throws(StoreError) in try db.store.unassign("ghost", role: "writer") } == missing)
        #expect(storeError { () throws(StoreError) in try db.store.requireUser("ghost") } == missing)
        #expect(missing.description == "no user named \"ghost\"")
    }

    @Test func assignAndUnassign() throws {
        let db = try populated()
        try db.store.addRole("reader")
        try db.store.assign("sensor-1", role: "reader", now: 300)
        #expect(try db.store.requireUser("sensor-1").roles == ["reader", "writer"])
        #expect(try db.store.requireUser("sensor-1").updatedAt == 300)
        try db.store.unassign("sensor-1", role: "writer", now: 301)
        #expect(try db.store.requireUser("sensor-1").roles == ["reader"])
        #expect(try db.store.members(ofRole: "writer").isEmpty)
    }

    @Test func assignAndUnassignRefuseWhatIsNotThere() throws {
        let db = try populated()
        try db.store.addRole("reader")
        #expect(storeError { () throws(StoreError) in try db.store.assign("sensor-1", role: "ghost") }
                == .notFound(kind: "role", name: "ghost"))
        #expect(storeError { () throws(StoreError) in try db.store.unassign("sensor-1", role: "ghost") }
                == .notFound(kind: "role", name: "ghost"))
        #expect(storeError { () throws(StoreError) in try db.store.unassign("sensor-1", role: "reader") }
                == .invalid("user \"sensor-1\" does not have role \"reader\""))
        #expect(try db.store.requireUser("sensor-1").roles == ["writer"])
    }

    @Test func removedUserLeavesNoMemberships() throws {
        let db = try populated()
        try db.store.removeUser("sensor-1")
        #expect(try db.store.user(named: "sensor-1") == nil)
        #expect(try db.store.members(ofRole: "writer").isEmpty)
        #expect(try db.store.db.scalarInt("SELECT count(*) FROM user_roles") == 0)
        #expect(try db.store.role(named: "writer") != nil)
    }

    // MARK: - roles and permissions

    @Test func rolesAndPermissions() throws {
        let db = try TestDatabase()
        try db.store.addRole("ops")
        try db.store.grant("ops", Permission(resource: "factory/+/telemetry/#", operation: .write))
        try db.store.grant("ops", Permission(resource: "devices/%u/cmd", operation: .read))
        try db.store.grant("ops", Permission(resource: "api/users", operation: .read, context: .http))
        #expect(try db.store.requireRole("ops") == Role(name: "ops", permissions: [
            Permission(resource: "api/users", operation: .read, context: .http),
            Permission(resource: "devices/%u/cmd", operation: .read),
            Permission(resource: "factory/+/telemetry/#", operation: .write),
        ]))
        try db.store.revoke("ops", resource: "devices/%u/cmd")
        #expect(try db.store.requireRole("ops").permissions.map(\.resource) == ["api/users", "factory/+/telemetry/#"])
        #expect(try db.store.listRoles().map(\.name) == ["ops"])
    }

    @Test func grantingTheSameResourceAgainAddsItsOperation() throws {
        let db = try TestDatabase()
        try db.store.addRole("ops")
        #expect(try db.store.grant("ops", Permission(resource: "a/#", operation: .read)) == .added)
        #expect(try db.store.grant("ops", Permission(resource: "a/#", operation: .read)) == .unchanged)
        // Granting write on a resource the role reads never takes the read away.
        #expect(try db.store.grant("ops", Permission(resource: "a/#", operation: .write)) == .widened(from: .read, to: .readWrite))
        #expect(try db.store.requireRole("ops").permissions == [Permission(resource: "a/#", operation: .readWrite)])
    }

    @Test func revokingOneOperationLeavesTheOther() throws {
        let db = try TestDatabase()
        try db.store.addRole("ops")
        try db.store.grant("ops", Permission(resource: "a/#", operation: .readWrite))
        #expect(try db.store.revoke("ops", resource: "a/#", operation: .read) == .narrowed(to: .write))
        #expect(try db.store.requireRole("ops").permissions == [Permission(resource: "a/#", operation: .write)])
        let mismatch = storeError { () throws(StoreError) in try db.store.revoke("ops", resource: "a/#", operation: .read) }
        #expect(mismatch?.description.contains("has only write on a/#, not read") == true)
        #expect(try db.store.revoke("ops", resource: "a/#", operation: .write) == .removed)
        #expect(try db.store.requireRole("ops").permissions.isEmpty)
    }

    @Test func roleNamesAreUniqueAndValidated() throws {
        let db = try TestDatabase()
        try db.store.addRole("ops")
        let duplicate = storeError { () throws(StoreError) in try db.store.addRole("ops") }
        #expect(duplicate == .alreadyExists(kind: "role", name: "ops"))
        #expect(duplicate?.description == "role \"ops\" already exists")
        #expect(storeError { () throws(StoreError) in try db.store.addRole("") }
                == .invalid("invalid role name \"\": must be 1 to 128 characters"))
        #expect(storeError { () throws(StoreError) in try db.store.addRole("two words") }
                == .invalid("invalid role name \"two words\": may contain only printable characters and no whitespace"))
        #expect(try db.store.listRoles().map(\.name) == ["ops"])
    }

    @Test(arguments: ["a/#/b", "a/b+", "#/a", ""])
    func invalidTopicFilterIsRefusedAndNamed(resource: String) throws {
        let db = try TestDatabase()
        try db.store.addRole("ops")
        let error = storeError { () throws(StoreError) in
            try db.store.grant("ops", Permission(resource: resource, operation: .read))
        }
        guard case let .invalid(message) = error else {
            Issue.record("expected .invalid, got \(String(describing: error))")
            return
        }
        #expect(message.hasPrefix("invalid topic"))
        if !resource.isEmpty { #expect(message.contains(resource)) }
        #expect(try db.store.requireRole("ops").permissions.isEmpty)
    }

    @Test func permissionWritesRefuseUnknownRolesAndResources() throws {
        let db = try TestDatabase()
        try db.store.addRole("ops")
        #expect(storeError { () throws(StoreError) in try db.store.grant("ghost", Permission(resource: "a", operation: .read)) }
                == .notFound(kind: "role", name: "ghost"))
        let revoke = storeError { () throws(StoreError) in try db.store.revoke("ops", resource: "a/b") }
        #expect(revoke?.description == "no permission of role \"ops\" on a resource named \"a/b\"")
        #expect(storeError { () throws(StoreError) in try db.store.removeRole("ghost") } == .notFound(kind: "role", name: "ghost"))
    }

    @Test func removingARoleCascadesToPermissionsAndMemberships() throws {
        let db = try populated()
        try db.store.addUser(user("sensor-2", roles: ["writer"]), now: 100)
        try db.store.removeRole("writer", now: 500)
        #expect(try db.store.role(named: "writer") == nil)
        #expect(try db.store.db.scalarInt("SELECT count(*) FROM permissions") == 0)
        #expect(try db.store.db.scalarInt("SELECT count(*) FROM user_roles") == 0)
        // The users stay, without the role; their updated_at says when they lost it.
        for name in ["sensor-1", "sensor-2"] {
            let stored = try db.store.requireUser(name)
            #expect(stored.roles.isEmpty)
            #expect(stored.updatedAt == 500)
        }
        let last = try db.audit().last
        #expect(last?.action == "role.rm")
        #expect(last?.detail == "members=sensor-1,sensor-2")
    }

    // MARK: - transactions and the audit log

    @Test func everyWriteAddsOneAuditRowNamingActorActionAndSubject() throws {
        let db = try TestDatabase(actor: "cli:alice")
        let s = db.store
        typealias Step = (action: String, subject: String, run: () throws(StoreError) -> Void)
        let steps: [Step] = [
            ("role.add", "ops", { () throws(StoreError) in try s.addRole("ops") }),
            ("role.add", "extra", { () throws(StoreError) in try s.addRole("extra") }),
            ("role.grant", "ops", { () throws(StoreError) in try s.grant("ops", Permission(resource: "a/#", operation: .read)) }),
            ("role.revoke", "ops", { () throws(StoreError) in try s.revoke("ops", resource: "a/#") }),
            ("user.add", "sensor-1", { () throws(StoreError) in try s.addUser(user("sensor-1", roles: ["ops"])) }),
            ("user.passwd", "sensor-1", { () throws(StoreError) in try s.setPassword("sensor-1", hash: Self.hash) }),
            ("user.disable", "sensor-1", { () throws(StoreError) in try s.setEnabled("sensor-1", false) }),
            ("user.enable", "sensor-1", { () throws(StoreError) in try s.setEnabled("sensor-1", true) }),
            ("user.prefix", "sensor-1", { () throws(StoreError) in try s.setPublishPrefix("sensor-1", "p/") }),
            ("user.assign", "sensor-1", { () throws(StoreError) in try s.assign("sensor-1", role: "extra") }),
            ("user.unassign", "sensor-1", { () throws(StoreError) in try s.unassign("sensor-1", role: "extra") }),
            ("role.rm", "ops", { () throws(StoreError) in try s.removeRole("ops") }),
            ("user.rm", "sensor-1", { () throws(StoreError) in try s.removeUser("sensor-1") }),
            ("registry.unlock", "registry", { () throws(StoreError) in try s.unlockRegistry(seconds: 60) }),
            ("registry.lock", "registry", { () throws(StoreError) in try s.lockRegistry() }),
        ]
        for step in steps {
            let before = try db.audit().count
            try step.run()
            let log = try db.audit()
            #expect(log.count == before + 1, "\(step.action) should add exactly one audit row")
            #expect(log.last?.action == step.action)
            #expect(log.last?.subject == step.subject)
            #expect(log.last?.actor == "cli:alice")
        }
    }

    @Test func failedWriteLeavesNoAuditRow() throws {
        let db = try populated()
        let before = try db.audit()
        _ = storeError { () throws(StoreError) in try db.store.addRole("writer") }
        _ = storeError { () throws(StoreError) in try db.store.removeUser("ghost") }
        _ = storeError { () throws(StoreError) in try db.store.grant("writer", Permission(resource: "a/#/b", operation: .read)) }
        #expect(try db.audit() == before)
    }

    @Test func compositeTransactionIsAllOrNothing() throws {
        // `allow --role`, `apply` and the server group several calls; a late failure must undo the early ones.
        let db = try TestDatabase()
        let error = storeError { () throws(StoreError) in
            try db.store.transaction { () throws(StoreError) in
                try db.store.addRole("ops")
                try db.store.addUser(user("sensor-1", roles: ["ops"]))
                try db.store.assign("sensor-1", role: "ghost")
            }
        }
        #expect(error == .notFound(kind: "role", name: "ghost"))
        #expect(try db.store.listRoles().isEmpty)
        #expect(try db.store.listUsers().isEmpty)
        #expect(try db.audit().map(\.action) == ["init"])
    }

    @Test func writeWhileAnotherProcessHoldsTheLockFailsAsBusy() throws {
        let db = try TestDatabase()
        let impatient = try db.connect(actor: "cli:bob", busyTimeoutMs: 50)
        try db.store.db.execute("BEGIN IMMEDIATE")
        let error = storeError { () throws(StoreError) in try impatient.addRole("ops") }
        try db.store.db.execute("ROLLBACK")
        #expect(error?.isBusy == true)
        #expect(error?.description.contains("is locked by another process") == true)
        try impatient.addRole("ops")
        #expect(try db.store.role(named: "ops") != nil)
    }

    /// The broker rebuilds its snapshot when this moves: every change to what it decides from, and
    /// nothing else (an audit row from a server login, a registry record, a blocklist entry).
    @Test func onlyPolicyChangesMoveThePolicyVersion() throws {
        let db = try TestDatabase()
        let broker = try db.connect(actor: "broker")
        var seen = try broker.policyVersion()
        func moved() throws -> Bool {
            let now = try broker.policyVersion()
            defer { seen = now }
            return now != seen
        }
        try db.store.recordAudit("login", subject: "admin")
        try db.store.recordRegistration(RegistrationAttempt(username: "new-dev", password: "new-dev-pass", clientId: "new-dev",
                                                            address: "10.0.0.9"))
        #expect(try !moved())
        try db.store.addRole("ops")
        #expect(try moved())
        try db.store.grant("ops", Permission(resource: "plant/#", operation: .read))
        #expect(try moved())
        try db.store.addUser(User(username: "op-1", passwordHash: TestHash.make("op-pass-1"), roles: []))
        #expect(try moved())
        try db.store.assign("op-1", role: "ops")
        #expect(try moved())
        try db.store.setEnabled("op-1", false)
        #expect(try moved())
        try db.store.unlockRegistry(seconds: 60)
        #expect(try moved())
        try db.store.revoke("ops", resource: "plant/#", context: .mqtt)
        #expect(try moved())
        try db.store.removeUser("op-1")
        #expect(try moved())
        #expect(try !moved())
    }
}
