import Testing
@testable import AuthCore

// The last admin (an enabled user with http /api/# readWrite) cannot be taken away by any write: the
// CLI, `apply` and the REST API all go through these store calls.
@Suite struct LastAdminTests {
    static let hash = TestHash.make("admin-pass-1")

    /// Role `admin` (http /api/# readWrite) held by `root`, role `writer` (mqtt) held by `sensor`.
    private func withOneAdmin() throws -> TestDatabase {
        let db = try TestDatabase()
        try db.store.addRole("admin")
        try db.store.grant("admin", Permission(resource: "/api/#", operation: .readWrite, context: .http))
        try db.store.addRole("writer")
        try db.store.grant("writer", Permission(resource: "factory/#", operation: .write))
        try db.store.addUser(User(username: "root", passwordHash: Self.hash, roles: ["admin"]))
        try db.store.addUser(User(username: "sensor", passwordHash: Self.hash, roles: ["writer"]))
        return db
    }

    private func expectRefused(_ db: TestDatabase, _ body: () throws(StoreError) -> Void,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let auditBefore = try db.audit().count
        let error = storeError(body)
        guard case let .conflict(message)? = error else {
            Issue.record("expected the last-admin conflict, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(message.contains("\"root\" is the last admin"), sourceLocation: sourceLocation)
        #expect(try db.store.adminUsernames() == ["root"], sourceLocation: sourceLocation)
        #expect(try db.audit().count == auditBefore, "a refused change writes nothing", sourceLocation: sourceLocation)
    }

    @Test func everyWayOfRemovingTheLastAdminIsRefused() throws {
        let db = try withOneAdmin()
        #expect(try db.store.adminUsernames() == ["root"])
        try expectRefused(db) { () throws(StoreError) in try db.store.unassign("root", role: "admin") }
        try expectRefused(db) { () throws(StoreError) in try db.store.removeRole("admin") }
        try expectRefused(db) { () throws(StoreError) in try db.store.revoke("admin", resource: "/api/#", context: .http) }
        try expectRefused(db) { () throws(StoreError) in
            try db.store.revoke("admin", resource: "/api/#", context: .http, operation: .write)
        }
        try expectRefused(db) { () throws(StoreError) in try db.store.removeUser("root") }
        try expectRefused(db) { () throws(StoreError) in try db.store.setEnabled("root", false) }
        let document = PolicyDocument(roles: [RoleSpec(name: "admin", permissions: [])], users: [])
        try expectRefused(db) { () throws(StoreError) in _ = try db.store.apply(document) }
        let demote = PolicyDocument(roles: [], users: [UserSpec(username: "root", passwordHash: Self.hash, roles: ["writer"])])
        try expectRefused(db) { () throws(StoreError) in _ = try db.store.apply(demote) }
        try expectRefused(db) { () throws(StoreError) in
            try db.store.transaction { () throws(StoreError) in
                try db.store.addUser(User(username: "temp", passwordHash: Self.hash, roles: ["admin"]))
                try db.store.removeUser("root")
                try db.store.removeUser("temp")
            }
        }
        #expect(try db.store.user(named: "temp") == nil)
        // Other changes go through, the admin's own included.
        try db.store.setPassword("root", hash: TestHash.make("admin-pass-2"))
        try db.store.removeUser("sensor")
    }

    @Test func anAdminGoesOnceAnotherExists() throws {
        let db = try withOneAdmin()
        try db.store.addRole("superuser")
        try db.store.grant("superuser", Permission(resource: "#", operation: .readWrite, context: .http))
        try db.store.assign("sensor", role: "superuser")
        #expect(try db.store.adminUsernames() == ["root", "sensor"])
        try db.store.removeUser("root")
        #expect(try db.store.adminUsernames() == ["sensor"])
    }

    @Test func narrowerHTTPPermissionsDoNotMakeAnAdmin() throws {
        let db = try withOneAdmin()
        try db.store.addRole("registrar")
        try db.store.grant("registrar", Permission(resource: "/api/client-registry/#", operation: .readWrite, context: .http))
        try db.store.addRole("viewer")
        try db.store.grant("viewer", Permission(resource: "/api/#", operation: .read, context: .http))
        try db.store.addUser(User(username: "ops", passwordHash: Self.hash, roles: ["registrar", "viewer"]))
        try db.store.addUser(User(username: "idle", passwordHash: Self.hash, enabled: false, roles: ["admin"]))
        #expect(try db.store.adminUsernames() == ["root"])
        try expectRefused(db) { () throws(StoreError) in try db.store.removeUser("root") }
    }

    @Test func aDatabaseWithoutAdminStaysUsable() throws {
        let db = try TestDatabase()
        try db.store.addRole("admin")
        try db.store.grant("admin", Permission(resource: "/api/#", operation: .readWrite, context: .http))
        try db.store.addUser(User(username: "root", passwordHash: Self.hash, enabled: false, roles: ["admin"]))
        #expect(try db.store.adminUsernames() == [])
        try db.store.unassign("root", role: "admin")
        try db.store.removeUser("root")
        try db.store.removeRole("admin")
    }
}
