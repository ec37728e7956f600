import AuthCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import CWAuthServer

/// Self-service must not escalate: a permission on a user's own path lets them change their own account,
/// never which roles they hold or what a role grants.
@Suite("no escalation through the API")
struct EscalationTests {
    static let selfy = ("selfy", "selfy-pw-1")
    static let keeper = ("keeper", "keeper-pw-1")
    static let manager = ("manager", "manager-pw-1")

    /// `selfy`: only `/api/users/%u/#` readWrite. `keeper`: also write on `/api/roles/sensor` (and its
    /// permissions). `manager`: `/api/users/#` and `/api/roles/#` readWrite, but not the whole API.
    static func fixture() throws -> Fixture {
        let fixture = try Fixture()
        let store = try fixture.store()
        try store.addRole("self-service")
        try store.grant("self-service", Permission(resource: "/api/users/%u/#", operation: .readWrite, context: .http))
        try store.addRole("sensor-keeper")
        try store.grant("sensor-keeper", Permission(resource: "/api/roles/sensor/#", operation: .write, context: .http))
        try store.addRole("manager")
        try store.grant("manager", Permission(resource: "/api/users/#", operation: .readWrite, context: .http))
        try store.grant("manager", Permission(resource: "/api/roles/#", operation: .readWrite, context: .http))
        for (name, password, roles) in [(selfy.0, selfy.1, ["self-service"]), (keeper.0, keeper.1, ["self-service", "sensor-keeper"]),
                                        (manager.0, manager.1, ["manager"])] {
            try store.addUser(User(username: name, passwordHash: PasswordHash.make(password: password, iterations: 1000).encoded,
                                   roles: roles))
        }
        return fixture
    }

    static let asSelfy = Credentials.basic(selfy.0, selfy.1)
    static let asKeeper = Credentials.basic(keeper.0, keeper.1)
    static let asManager = Credentials.basic(manager.0, manager.1)

    @Test func selfServiceCannotAssignItselfARole() async throws {
        let fixture = try Self.fixture()
        try await fixture.test { client async throws in
            for role in ["admin", "sensor", "viewer"] {
                let reply = try await client.call(.put, "/api/users/selfy/roles/\(role)", Self.asSelfy)
                #expect(reply.status == .forbidden, "\(role): \(reply.text)")
                #expect(reply.error?.contains("needs an http write permission covering /api/roles/\(role)") == true, "\(reply.text)")
            }
            let drop = try await client.call(.delete, "/api/users/selfy/roles/self-service", Self.asSelfy)
            #expect(drop.status == .forbidden, "\(drop.text)")
            #expect(drop.error?.contains("/api/roles/self-service") == true)
        }
        #expect(try fixture.store().user(named: "selfy")?.roles == ["self-service"])
    }

    @Test func selfServiceStillChangesItsOwnPassword() async throws {
        let fixture = try Self.fixture()
        try await fixture.test { client async throws in
            let changed = try await client.call(.put, "/api/users/selfy/password", Self.asSelfy, json: #"{"password":"new-selfy-pw"}"#)
            #expect(changed.status == .noContent, "\(changed.text)")
            #expect(try await client.call(.get, "/api/users/selfy", .basic("selfy", "new-selfy-pw")).status == .ok)
            // Not anybody else's.
            let other = try await client.call(.put, "/api/users/admin/password", .basic("selfy", "new-selfy-pw"), json: #"{"password":"taken-over"}"#)
            #expect(other.status == .forbidden)
        }
    }

    @Test func theRolesOwnResourceAllowsAssigningIt() async throws {
        let fixture = try Self.fixture()
        try await fixture.test { client async throws in
            let assigned = try await client.call(.put, "/api/users/keeper/roles/sensor", Self.asKeeper)
            #expect(assigned.status == .ok, "\(assigned.text)")
            #expect(assigned.strings("roles") == ["self-service", "sensor", "sensor-keeper"])
            let unassigned = try await client.call(.delete, "/api/users/keeper/roles/sensor", Self.asKeeper)
            #expect(unassigned.status == .ok, "\(unassigned.text)")
            // Another role is still out of reach.
            #expect(try await client.call(.put, "/api/users/keeper/roles/viewer", Self.asKeeper).status == .forbidden)
            // An mqtt grant on its role is fine; an http one (access it does not hold) is not.
            let mqtt = try await client.call(.post, "/api/roles/sensor/permissions", Self.asKeeper,
                                             json: #"{"resource":"sensors/%u/status","operation":"write"}"#)
            #expect(mqtt.status == .ok, "\(mqtt.text)")
            let http = try await client.call(.post, "/api/roles/sensor/permissions", Self.asKeeper,
                                             json: #"{"resource":"/api/users/#","operation":"readWrite","context":"http"}"#)
            #expect(http.status == .forbidden, "\(http.text)")
            #expect(http.error?.contains("may not hand out http access it does not hold: /api/users/# readWrite") == true, "\(http.text)")
        }
    }

    @Test func onlyAnAdminChangesAdminStatus() async throws {
        let fixture = try Self.fixture()
        try await fixture.test { client async throws in
            let admin = "makes its holders admins"
            let assign = try await client.call(.put, "/api/users/manager/roles/admin", Self.asManager)
            #expect(assign.status == .forbidden && assign.error?.contains(admin) == true, "\(assign.text)")
            let grant = try await client.call(.post, "/api/roles/manager/permissions", Self.asManager,
                                              json: #"{"resource":"/api/#","operation":"readWrite","context":"http"}"#)
            #expect(grant.status == .forbidden && grant.error?.contains(admin) == true, "\(grant.text)")
            let create = try await client.call(.post, "/api/roles", Self.asManager,
                                               json: ##"{"name":"root","permissions":[{"resource":"#","operation":"readWrite","context":"http"}]}"##)
            #expect(create.status == .forbidden && create.error?.contains(admin) == true, "\(create.text)")
            let newUser = try await client.call(.post, "/api/users", Self.asManager,
                                                json: #"{"username":"sidekick","password":"sidekick-pw","roles":["admin"]}"#)
            #expect(newUser.status == .forbidden && newUser.error?.contains(admin) == true, "\(newUser.text)")
            try fixture.store().assign("viewer", role: "admin")
            let demote = try await client.call(.delete, "/api/users/viewer/roles/admin", Self.asManager)
            #expect(demote.status == .forbidden && demote.error?.contains(admin) == true, "\(demote.text)")
            #expect(try await client.call(.delete, "/api/roles/admin", Self.asManager).status == .forbidden)
            let revoke = try await client.call(.delete, "/api/roles/admin/permissions?resource=/api/%23&context=http", Self.asManager)
            #expect(revoke.status == .forbidden, "\(revoke.text)")
            // An admin's account is not a user manager's to take over.
            for (method, path, json) in [(HTTPRequest.Method.put, "/api/users/admin/password", #"{"password":"taken-over"}"#),
                                         (.put, "/api/users/admin/enabled", #"{"enabled":false}"#),
                                         (.delete, "/api/users/admin", nil)] {
                let reply = try await client.call(method, path, Self.asManager, json: json)
                #expect(reply.status == .forbidden, "\(path): \(reply.text)")
                #expect(reply.error?.contains(#"may not change user "admin", who has http access it does not hold"#) == true)
            }
            // Within its own reach the manager still manages: an mqtt role, a plain user.
            #expect(try await client.call(.put, "/api/users/device/roles/sensor", Self.asManager).status == .ok)
            #expect(try await client.call(.put, "/api/users/device/password", Self.asManager, json: #"{"password":"device-pw-2"}"#).status == .noContent)
            // And the admin may do all of it.
            #expect(try await client.call(.put, "/api/users/manager/roles/admin", .admin).status == .ok)
        }
        #expect(try fixture.store().adminUsernames() == ["admin", "manager", "viewer"])
    }
}

@Suite("request bodies are strict JSON")
struct StrictBodyTests {
    @Test func bodiesThatAreNotJSONAre415() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            for type in ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/jsonx"] {
                let reply = try await client.call(.post, "/api/users", .admin, json: #"{"username":"typed","password":"typed-pw"}"#,
                                                  headers: [.contentType: type])
                #expect(reply.status == .unsupportedMediaType, "\(type): \(reply.text)")
                #expect(reply.error?.contains("application/json") == true, "\(reply.text)")
            }
            let none = try await client.execute(uri: "/api/client-registry/unlock", method: .post, headers: Credentials.admin.headers,
                                                body: ByteBuffer(string: #"{"minutes":5}"#)) { $0.status }
            #expect(none == .unsupportedMediaType)
            for type in ["application/json; charset=utf-8", "Application/JSON;charset=\"UTF-8\""] {
                let reply = try await client.call(.post, "/api/client-registry/unlock", .admin, json: #"{"minutes":5}"#,
                                                  headers: [.contentType: type])
                #expect(reply.status == .ok, "\(type): \(reply.text)")
            }
            // No body needs no type.
            #expect(try await client.call(.post, "/api/client-registry/lock", .admin).status == .ok)
        }
        #expect(try fixture.store().user(named: "typed") == nil)
    }

    @Test func duplicateKeysAre400NamingTheKey() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            let top = try await client.call(.post, "/api/users", .admin,
                                            json: #"{"username":"twice","password":"twice-pw","roles":[],"roles":["admin"]}"#)
            #expect(top.status == .badRequest)
            #expect(top.error == #"body: duplicate key "roles""#, "\(top.text)")
            let escaped = try await client.call(.post, "/api/users", .admin,
                                                json: #"{"username":"twice","password":"twice-pw","\u0070assword":"other-pw"}"#)
            #expect(escaped.error == #"body: duplicate key "password""#, "\(escaped.text)")
            let deep = try await client.call(.post, "/api/roles", .admin,
                                             json: ##"{"name":"dup","permissions":[{"resource":"a/#","operation":"read","resource":"#"}]}"##)
            #expect(deep.status == .badRequest)
            #expect(deep.error == #"body: duplicate key "resource" in permissions[0]"#, "\(deep.text)")
        }
        #expect(try fixture.store().user(named: "twice") == nil)
        #expect(try fixture.store().role(named: "dup") == nil)
    }

    @Test func nestingDeeperThan64Is400() async throws {
        try await Fixture().test { client async throws in
            func nested(_ depth: Int) -> String {
                // The body object is level 1; "x" holds depth - 1 more arrays.
                #"{"username":"deep-user","password":"deep-pw-1","x":"# + String(repeating: "[", count: depth - 1)
                    + String(repeating: "]", count: depth - 1) + "}"
            }
            let deep = try await client.call(.post, "/api/users", .admin, json: nested(65))
            #expect(deep.status == .badRequest)
            #expect(deep.error?.hasPrefix("body: nested deeper than 64 levels") == true, "\(deep.text)")
            // 64 levels parse; the unknown field is what is wrong then.
            let ok = try await client.call(.post, "/api/users", .admin, json: nested(64))
            #expect(ok.status == .badRequest)
            #expect(ok.error?.hasPrefix("x: unknown field") == true, "\(ok.text)")
        }
    }

    @Test func everyDocumentedBodyDocuments415() throws {
        let document = try #require(JSONValue.parse(Array(OpenAPIDocument.text.utf8)))
        guard case let .object(paths)? = document["paths"] else { throw FixtureError("no paths") }
        var checked = 0
        for (path, item) in paths {
            guard case let .object(operations) = item else { continue }
            for (method, operation) in operations where operation["requestBody"] != nil {
                #expect(operation["responses"]?["415"] != nil, "\(method) \(path)")
                checked += 1
            }
        }
        #expect(checked >= 10)
    }

    @Test func theParserIsStrict() {
        #expect(JSONValue.parse(Array(#"{"a":[1,-2.5e3,"\u00e9\ud83d\ude00",true,false,null]}"#.utf8))
            == ["a": [1, .double(-2500), "é😀", true, false, .null]])
        for bad in ["", "{", "{\"a\":1,}", "[1,]", "01", "1.", "\"\u{1}\"", "\"\\ud800\"", "{\"a\" 1}", "[1] x", "'a'", "NaN"] {
            #expect(JSONValue.parse(Array(bad.utf8)) == nil, "\(bad)")
        }
        #expect(JSONValue.parse([0x22, 0xFF, 0x22]) == nil, "invalid UTF-8")
    }
}
