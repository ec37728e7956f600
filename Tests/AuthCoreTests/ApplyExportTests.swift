import Foundation
import Testing
@testable import AuthCore

// `apply` and `export` at the AuthCore level. The CLI turns YAML or JSON into a PolicyDocument (Yams,
// JSONDecoder); here the spec's example goes through JSONDecoder, which exercises the same Codable
// code, including the refusal of unknown fields.

/// SPEC.md's declarative example, as JSON.
private let specExample = """
    {
      "roles": [
        { "name": "sensor-writer",
          "permissions": [
            { "resource": "factory/+/telemetry/#", "operation": "write", "context": "mqtt" },
            { "resource": "devices/%u/cmd", "operation": "read", "context": "mqtt" }
          ] }
      ],
      "users": [
        { "username": "sensor-17", "password": "s3cret-pass", "roles": ["sensor-writer"] }
      ]
    }
    """

private func decode(_ json: String) throws -> PolicyDocument {
    try JSONDecoder().decode(PolicyDocument.self, from: Data(json.utf8))
}

private func encode(_ document: PolicyDocument) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(document), as: UTF8.self)
}

/// The message of a decoding failure, wherever the decoder tucked it.
private func decodingMessage(_ json: String) -> String? {
    do {
        _ = try decode(json)
        return nil
    } catch let DecodingError.dataCorrupted(context) {
        return context.debugDescription
    } catch {
        return "\(error)"
    }
}

@Suite struct ApplyExportTests {

    // MARK: - the spec's example

    @Test func specExampleGivesTheDecisionsTheIssueAsksFor() throws {
        let db = try TestDatabase()
        let summary = try db.store.apply(try decode(specExample), now: 1000)
        #expect(summary.rolesCreated == ["sensor-writer"])
        #expect(summary.usersCreated == ["sensor-17"])
        let snapshot = Snapshot(policy: try db.store.loadPolicy())
        func allows(_ topic: String, _ access: Access) -> Bool {
            snapshot.decide(username: "sensor-17", clientId: "c1", topic: topic, access: access).isAllowed
        }
        #expect(allows("factory/l1/telemetry/t", .write))
        #expect(!allows("factory/l1/status", .write))
        #expect(allows("devices/sensor-17/cmd", .read))
        #expect(!allows("devices/other/cmd", .read))
        #expect(!allows("factory/l1/telemetry/t", .read))
        let stored = try db.store.requireUser("sensor-17")
        #expect(stored.origin == .apply)
        #expect(try PasswordHash(parsing: stored.passwordHash).verify("s3cret-pass"))
    }

    @Test func applyingTheSameFileTwiceChangesNothing() throws {
        let db = try TestDatabase()
        let document = try decode(specExample)
        let broker = try db.connect(actor: "broker")
        _ = try db.store.apply(document, now: 1000)
        let userAfterFirst = try db.store.requireUser("sensor-17")
        let auditAfterFirst = try db.audit()
        let versionAfterFirst = try broker.policyVersion()

        let second = try db.store.apply(document, now: 2000)
        #expect(!second.changed)
        #expect(second.rolesUnchanged == ["sensor-writer"])
        #expect(second.usersUnchanged == ["sensor-17"])
        // Same hash (a clear password is not re-hashed with a new salt), same timestamps, no audit row,
        // and the broker's change probe sees nothing to reload.
        #expect(try db.store.requireUser("sensor-17") == userAfterFirst)
        #expect(try db.audit() == auditAfterFirst)
        #expect(try broker.policyVersion() == versionAfterFirst)
    }

    @Test func applyUpdatesWhatChangedAndLeavesUnlistedEntitiesAlone() throws {
        let db = try TestDatabase()
        _ = try db.store.apply(try decode(specExample), now: 1000)
        try db.store.addRole("manual-role")
        try db.store.addUser(User(username: "manual-user", passwordHash: TestHash.make("manual-pass")))
        let oldHash = try db.store.requireUser("sensor-17").passwordHash

        let changed = PolicyDocument(
            roles: [RoleSpec(name: "sensor-writer", permissions: [PermissionSpec(resource: "factory/#", operation: .readWrite)]),
                    RoleSpec(name: "auditor", permissions: [])],
            users: [UserSpec(username: "sensor-17", password: "new-secret-1", roles: ["auditor"], enabled: false,
                             publishPrefix: "site1/")])
        let summary = try db.store.apply(changed, now: 3000)
        #expect(summary.rolesUpdated == ["sensor-writer"])
        #expect(summary.rolesCreated == ["auditor"])
        #expect(summary.usersUpdated == ["sensor-17"])

        #expect(try db.store.requireRole("sensor-writer").permissions == [Permission(resource: "factory/#", operation: .readWrite)])
        let user = try db.store.requireUser("sensor-17")
        #expect(user.passwordHash != oldHash)
        #expect(try PasswordHash(parsing: user.passwordHash).verify("new-secret-1"))
        #expect(user.roles == ["auditor"])
        #expect(!user.enabled)
        #expect(user.publishPrefix == "site1/")
        #expect(user.updatedAt == 3000)
        #expect(try db.store.role(named: "manual-role") != nil)
        #expect(try db.store.user(named: "manual-user") != nil)
        #expect(try db.audit().last?.action == "apply")
    }

    // MARK: - dry run

    @Test func dryRunReportsWhatApplyDoesAndWritesNothing() throws {
        let dir = TemporaryDirectory()
        do { _ = try Store.initialize(path: dir.database, actor: "cli:test") } // closed: everything in the main file
        let before = Files.read(dir.database)
        let document = try decode(specExample)
        let plan: ApplySummary
        do {
            let store = try Store(path: dir.database, actor: "cli:test")
            let version = try store.policyVersion()
            let audit = try store.auditLog(limit: 100)
            plan = try store.apply(document, dryRun: true, now: 1000)
            #expect(plan.rolesCreated == ["sensor-writer"] && plan.usersCreated == ["sensor-17"])
            #expect(try store.policyVersion() == version)
            #expect(try store.auditLog(limit: 100) == audit)
            #expect(try store.listUsers().isEmpty && store.listRoles().isEmpty)
        }
        Files.unchanged(dir.database, from: before)
        #expect(!Files.exists(dir.database + "-wal"))

        // The plan is what applying then does, and a dry run of the applied file plans nothing.
        let store = try Store(path: dir.database, actor: "cli:test")
        #expect(try store.apply(document, now: 1000) == plan)
        let again = try store.apply(document, dryRun: true, now: 2000)
        #expect(!again.changed && again.usersUnchanged == ["sensor-17"])
    }

    @Test func dryRunIsRefusedWhereApplyIs() throws {
        let db = try TestDatabase()
        try db.store.addRole("admin")
        try db.store.grant("admin", Permission(resource: Store.adminScope, operation: .readWrite, context: .http))
        try db.store.addUser(User(username: "root", passwordHash: TestHash.make("root-pass"), roles: ["admin"]))
        let demote = PolicyDocument(users: [UserSpec(username: "root", passwordHash: TestHash.make("root-pass"), roles: [])])
        let dry = storeError { () throws(StoreError) in try db.store.apply(demote, dryRun: true) }
        let real = storeError { () throws(StoreError) in try db.store.apply(demote) }
        #expect(dry != nil && dry == real)
        #expect(try db.store.requireUser("root").roles == ["admin"])
        // A refused dry run leaves no transaction open behind it.
        try db.store.addRole("after")
    }

    // MARK: - export → apply round trip

    /// A store with a bit of everything an export must carry.
    private func richDatabase() throws -> TestDatabase {
        let db = try TestDatabase()
        _ = try db.store.apply(try decode(specExample))
        try db.store.addRole("reader")
        try db.store.grant("reader", Permission(resource: "factory/#", operation: .read))
        try db.store.grant("reader", Permission(resource: "$SYS/broker/#", operation: .read))
        try db.store.grant("reader", Permission(resource: "clients/%c/#", operation: .readWrite))
        try db.store.grant("reader", Permission(resource: "api/users", operation: .read, context: .http))
        try db.store.addRole("empty")
        try db.store.addUser(User(username: "dashboard", passwordHash: TestHash.make("dash-pass"), roles: ["reader", "sensor-writer"]))
        try db.store.addUser(User(username: "gateway", passwordHash: TestHash.make("gate-pass"), roles: ["sensor-writer"],
                                  publishPrefix: "site1/"))
        try db.store.addUser(User(username: "retired", passwordHash: TestHash.make("old-pass"), enabled: false, roles: ["reader"]))
        try db.store.addUser(User(username: "fresh-device", passwordHash: TestHash.make("new-device")))
        return db
    }

    private static let usernames = ["sensor-17", "dashboard", "gateway", "retired", "fresh-device", "nobody"]
    private static let topics = [
        "factory/l1/telemetry/t", "factory/l1/status", "site1/factory/l1/telemetry/t", "devices/sensor-17/cmd",
        "devices/dashboard/cmd", "$SYS/broker/uptime", "clients/c1/x", "clients/c2/x", "api/users",
    ]
    private static let filters = ["factory/#", "factory/+/status", "#", "$SYS/#", "clients/c1/#", "devices/sensor-17/cmd"]

    private func decisions(_ snapshot: Snapshot) -> [String] {
        var out: [String] = []
        for user in Self.usernames {
            for topic in Self.topics {
                for access in Access.allCases {
                    let decision = snapshot.decide(username: user, clientId: "c1", topic: topic, access: access)
                    out.append("\(user) \(access) \(topic): \(decision)")
                }
            }
            for filter in Self.filters {
                let decision = snapshot.decideSubscribe(username: user, clientId: "c1", filter: filter)
                out.append("\(user) subscribe \(filter): \(decision)")
            }
        }
        return out
    }

    @Test func exportAppliedToAnEmptyDatabaseGivesTheSameDecisionsAndTheSameExport() throws {
        let source = try richDatabase()
        let exported = try source.store.export()
        let json = try encode(exported)

        let target = try TestDatabase()
        let summary = try target.store.apply(try decode(json))
        #expect(summary.usersCreated.count == 5)
        #expect(try target.store.export() == exported)
        #expect(try encode(target.store.export()) == json)

        let before = decisions(Snapshot(policy: try source.store.loadPolicy()))
        let after = decisions(Snapshot(policy: try target.store.loadPolicy()))
        #expect(after == before)
        // The grid must contain both answers, or the comparison proves nothing.
        #expect(before.contains { $0.contains(": allowed(") })
        #expect(before.contains { $0.contains(": denied(") })
        // Re-applying the export onto its own source is a no-op.
        #expect(!(try source.store.apply(exported).changed))
    }

    @Test func exportCarriesHashesNeverClearPasswords() throws {
        let db = try richDatabase()
        let exported = try db.store.export()
        #expect(exported.users.count == 5)
        for user in exported.users {
            #expect(user.password == nil)
            let stored = try db.store.requireUser(user.username)
            #expect(user.passwordHash == stored.passwordHash)
        }
        let json = try encode(exported)
        #expect(!json.contains("s3cret-pass"))
        #expect(!json.contains("\"password\""))
        #expect(json.contains("\"passwordHash\""))
    }

    // MARK: - refusals: nothing written, file byte for byte the same

    /// Applies `document` to a database with content, then compares the closed file before and after.
    private func expectRefusedLeavingFileUntouched(_ document: PolicyDocument, message: String,
                                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = TemporaryDirectory()
        do {
            let store = try Store.initialize(path: dir.database, actor: "cli:test").store
            _ = try store.apply(try decode(specExample))
        } // last connection closed: the WAL is checkpointed into the main file and removed
        let before = Files.read(dir.database)
        #expect(before != nil, sourceLocation: sourceLocation)
        var error: StoreError?
        do {
            let store = try Store(path: dir.database, actor: "cli:test")
            error = storeError { () throws(StoreError) in try store.apply(document) }
        }
        #expect(error == .invalid(message), sourceLocation: sourceLocation)
        Files.unchanged(dir.database, from: before, sourceLocation: sourceLocation)
        #expect(!Files.exists(dir.database + "-wal"), sourceLocation: sourceLocation)
    }

    @Test func invalidFilterIsNamedAndNothingIsWritten() throws {
        let document = PolicyDocument(
            roles: [RoleSpec(name: "new-role", permissions: [PermissionSpec(resource: "ok/#", operation: .read)]),
                    RoleSpec(name: "broken", permissions: [PermissionSpec(resource: "ok/+", operation: .read),
                                                           PermissionSpec(resource: "a/#/b", operation: .write)])],
            users: [UserSpec(username: "new-user", password: "new-secret", roles: ["new-role"])])
        try expectRefusedLeavingFileUntouched(document, message: """
            roles[1].permissions[1]: invalid topic filter "a/#/b": '#' must be the last level and alone in it
            """)
    }

    @Test func failureDuringTheWriteRollsEverythingBack() throws {
        // Validation passes; the missing role is only found after the first role was already inserted.
        let document = PolicyDocument(
            roles: [RoleSpec(name: "new-role", permissions: [PermissionSpec(resource: "ok/#", operation: .read)])],
            users: [UserSpec(username: "new-user", password: "new-secret", roles: ["new-role"]),
                    UserSpec(username: "sensor-17", password: "changed-pass", roles: ["ghost-role"])])
        try expectRefusedLeavingFileUntouched(document, message: "users[1]: role \"ghost-role\" does not exist and is not in the file")
    }

    @Test func passwordAndPasswordHashTogetherAreRefused() throws {
        let document = PolicyDocument(users: [UserSpec(username: "sensor-99", password: "s3cret-pass",
                                                       passwordHash: TestHash.make("s3cret-pass"))])
        try expectRefusedLeavingFileUntouched(document, message: "users[0]: give either password or passwordHash, not both")
    }

    @Test(arguments: [
        (PolicyDocument(users: [UserSpec(username: "sensor-99")]),
         "users[0]: new user \"sensor-99\" needs password or passwordHash"),
        (PolicyDocument(users: [UserSpec(username: "sensor-99", password: "1234")]),
         "users[0]: invalid password: must be at least 5 characters"),
        (PolicyDocument(users: [UserSpec(username: "sensor-99", passwordHash: "$7$broken")]),
         nil),
        (PolicyDocument(users: [UserSpec(username: "x/y", password: "s3cret-pass")]),
         "users[0]: invalid username \"x/y\": may not contain '+', '#' or '/'"),
        (PolicyDocument(users: [UserSpec(username: "sensor-99", password: "s3cret-pass", publishPrefix: "a/#")]),
         "users[0]: invalid publish prefix \"a/#\": must be a topic name without '+', '#' or NUL"),
        (PolicyDocument(users: [UserSpec(username: "sensor-99", password: "s3cret-pass"),
                                UserSpec(username: "sensor-99", password: "s3cret-pass")]),
         "users[1]: user \"sensor-99\" is listed twice"),
        (PolicyDocument(roles: [RoleSpec(name: "r", permissions: []), RoleSpec(name: "r", permissions: [])]),
         "roles[1]: role \"r\" is listed twice"),
        (PolicyDocument(roles: [RoleSpec(name: "r", permissions: [PermissionSpec(resource: "a/b", operation: .read),
                                                                  PermissionSpec(resource: "a/b", operation: .write)])]),
         "roles[0].permissions[1]: resource \"a/b\" is listed twice for role \"r\""),
    ] as [(PolicyDocument, String?)])
    func invalidDocumentsAreRefusedNamingTheEntry(document: PolicyDocument, message: String?) throws {
        let db = try TestDatabase()
        let before = try db.audit()
        let error = storeError { () throws(StoreError) in try db.store.apply(document) }
        guard case let .invalid(text) = error else {
            Issue.record("expected .invalid, got \(String(describing: error))")
            return
        }
        if let message {
            #expect(text == message)
        } else {
            #expect(text.hasPrefix("users[0]: invalid passwordHash: "))
        }
        #expect(try db.store.listUsers().isEmpty)
        #expect(try db.store.listRoles().isEmpty)
        #expect(try db.audit() == before)
    }

    // MARK: - decoding

    @Test(arguments: [
        (#"{"roles": [], "userz": []}"#, "userz"),
        (#"{"roles": [{"name": "r", "permissons": []}]}"#, "permissons"),
        (#"{"roles": [{"name": "r", "permissions": [{"resource": "a", "operation": "read", "ctx": "mqtt"}]}]}"#, "ctx"),
        (#"{"users": [{"username": "sensor-1", "password": "s3cret-pass", "role": ["r"]}]}"#, "role"),
    ])
    func unknownFieldsAreRefusedByName(json: String, field: String) {
        let message = decodingMessage(json)
        #expect(message?.contains("unknown field \"\(field)\"") == true, "\(String(describing: message))")
    }

    @Test func decodingFillsTheDefaults() throws {
        let document = try decode(#"""
            {"roles": [{"name": "r", "permissions": [{"resource": "a/#", "operation": "readWrite"}]}],
             "users": [{"username": "sensor-1", "passwordHash": "$7$x"}]}
            """#)
        #expect(document == PolicyDocument(
            roles: [RoleSpec(name: "r", permissions: [PermissionSpec(resource: "a/#", operation: .readWrite, context: .mqtt)])],
            users: [UserSpec(username: "sensor-1", passwordHash: "$7$x", roles: [], enabled: true)]))
        #expect(try decode("{}") == PolicyDocument())
    }

    @Test func unknownOperationIsRefused() {
        #expect(decodingMessage(#"{"roles": [{"name": "r", "permissions": [{"resource": "a", "operation": "publish"}]}]}"#) != nil)
    }
}
