import AuthCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import CWAuthServer

@Suite("users API")
struct UserRouteTests {
    @Test func createShowAndList() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            let created = try await client.call(.post, "/api/users", .admin,
                                                json: #"{"username":"sensor-17","password":"s3cret-pass","roles":["sensor"],"publishPrefix":"site1/"}"#)
            #expect(created.status == .created)
            #expect(created.string("username") == "sensor-17")
            #expect(created.strings("roles") == ["sensor"])
            #expect(created.json?["enabled"] == .bool(true))
            #expect(created.string("publishPrefix") == "site1/")
            #expect(created.string("origin") == "manual")
            #expect(created.string("createdAt")?.hasSuffix("Z") == true)
            #expect(created.headers[.location] == "/api/users/sensor-17")

            let shown = try await client.call(.get, "/api/users/sensor-17", .admin)
            #expect(shown.status == .ok)
            #expect(shown.json == created.json)
            let list = try await client.call(.get, "/api/users", .admin)
            #expect(list.json?.names == ["admin", "device", "sensor-17", "viewer"])

            let plain = try await client.call(.post, "/api/users", .admin, json: #"{"username":"plain","password":"plain-pw","enabled":false}"#)
            #expect(plain.status == .created)
            #expect(plain.json?["publishPrefix"] == .null)
            #expect(plain.json?["enabled"] == .bool(false))
        }
        let user = try #require(try fixture.store().user(named: "sensor-17"))
        #expect(try PasswordHash(parsing: user.passwordHash).verify("s3cret-pass"))
    }

    @Test func createErrors() async throws {
        try await Fixture().test { client async throws in
            func post(_ json: String) async throws -> Reply { try await client.call(.post, "/api/users", .admin, json: json) }
            let exists = try await post(#"{"username":"device","password":"whatever-1"}"#)
            #expect(exists.status == .conflict)
            #expect(exists.error == #"user "device" already exists"#)
            let short = try await post(#"{"username":"ab","password":"whatever-1"}"#)
            #expect(short.status == .badRequest)
            #expect(short.error?.hasPrefix("username: ") == true)
            let bad = try await post(#"{"username":"a/b/c","password":"whatever-1"}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.error?.hasPrefix("username: ") == true)
            let pw = try await post(#"{"username":"newone","password":"1234"}"#)
            #expect(pw.status == .badRequest)
            #expect(pw.error == "password: invalid password: must be at least 5 characters")
            let missing = try await post(#"{"username":"newone"}"#)
            #expect(missing.error == "password: is required")
            let type = try await post(#"{"username":"newone","password":"whatever-1","roles":"sensor"}"#)
            #expect(type.status == .badRequest)
            #expect(type.error == "roles: must be an array of strings, not a string")
            let element = try await post(#"{"username":"newone","password":"whatever-1","roles":[1]}"#)
            #expect(element.error == "roles[0]: must be a string, not a number")
            let role = try await post(#"{"username":"newone","password":"whatever-1","roles":["sensor","nope"]}"#)
            #expect(role.status == .badRequest)
            #expect(role.error == #"roles[1]: no role named "nope""#)
            let unknown = try await post(#"{"username":"newone","password":"whatever-1","admin":true}"#)
            #expect(unknown.status == .badRequest)
            #expect(unknown.error?.hasPrefix("admin: unknown field") == true)
            let prefix = try await post(#"{"username":"newone","password":"whatever-1","publishPrefix":"a/#"}"#)
            #expect(prefix.status == .badRequest)
            #expect(prefix.error?.hasPrefix("publishPrefix: ") == true)
            let array = try await post(#"[1,2]"#)
            #expect(array.error == "body: must be a JSON object, not an array")
            // None of these created anything.
            let list = try await client.call(.get, "/api/users", .admin)
            #expect(list.json?.names == ["admin", "device", "viewer"])
        }
    }

    @Test func showAndDeleteUnknownUserIs404() async throws {
        try await Fixture().test { client async throws in
            let show = try await client.call(.get, "/api/users/ghost", .admin)
            #expect(show.status == .notFound)
            #expect(show.error == #"no user named "ghost""#)
            #expect(try await client.call(.delete, "/api/users/ghost", .admin).status == .notFound)
        }
    }

    @Test func deleteUser() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            #expect(try await client.call(.delete, "/api/users/device", .admin).status == .noContent)
            #expect(try await client.call(.get, "/api/users/device", .admin).status == .notFound)
        }
        #expect(try fixture.store().user(named: "device") == nil)
    }

    @Test func percentEncodedUsernames() async throws {
        try await Fixture().test { client async throws in
            let created = try await client.call(.post, "/api/users", .admin, json: #"{"username":"dev:1?x","password":"whatever-1"}"#)
            #expect(created.status == .created)
            let shown = try await client.call(.get, "/api/users/dev%3A1%3Fx", .admin)
            #expect(shown.status == .ok)
            #expect(shown.string("username") == "dev:1?x")
        }
    }

    @Test func changePassword() async throws {
        try await Fixture().test { client async throws in
            let changed = try await client.call(.put, "/api/users/device/password", .admin, json: #"{"password":"brand-new-pw"}"#)
            #expect(changed.status == .noContent)
            #expect(changed.text.isEmpty)
            let short = try await client.call(.put, "/api/users/device/password", .admin, json: #"{"password":"1"}"#)
            #expect(short.status == .badRequest)
            #expect(short.error?.hasPrefix("password: ") == true)
            let ghost = try await client.call(.put, "/api/users/ghost/password", .admin, json: #"{"password":"brand-new-pw"}"#)
            #expect(ghost.status == .notFound)
            // The new password works (device has no http permission: 403, not 401), the old one does not.
            #expect(try await client.call(.get, "/api/users", .basic("device", "brand-new-pw")).status == .forbidden)
            #expect(try await client.call(.get, "/api/users", .device).status == .unauthorized)
        }
    }

    @Test func enableAndDisable() async throws {
        try await Fixture().test { client async throws in
            let off = try await client.call(.put, "/api/users/device/enabled", .admin, json: #"{"enabled":false}"#)
            #expect(off.status == .ok)
            #expect(off.json?["enabled"] == .bool(false))
            let on = try await client.call(.put, "/api/users/device/enabled", .admin, json: #"{"enabled":true}"#)
            #expect(on.json?["enabled"] == .bool(true))
            let missing = try await client.call(.put, "/api/users/device/enabled", .admin, json: "{}")
            #expect(missing.status == .badRequest)
            #expect(missing.error == "enabled: is required")
            let type = try await client.call(.put, "/api/users/device/enabled", .admin, json: #"{"enabled":"no"}"#)
            #expect(type.error == "enabled: must be true or false, not a string")
            let ghost = try await client.call(.put, "/api/users/ghost/enabled", .admin, json: #"{"enabled":true}"#)
            #expect(ghost.status == .notFound)
        }
    }

    @Test func publishPrefix() async throws {
        try await Fixture().test { client async throws in
            let set = try await client.call(.put, "/api/users/device/publish-prefix", .admin, json: #"{"publishPrefix":"plant-7/"}"#)
            #expect(set.status == .ok)
            #expect(set.string("publishPrefix") == "plant-7/")
            let cleared = try await client.call(.put, "/api/users/device/publish-prefix", .admin, json: #"{"publishPrefix":null}"#)
            #expect(cleared.status == .ok)
            #expect(cleared.json?["publishPrefix"] == .null)
            let bad = try await client.call(.put, "/api/users/device/publish-prefix", .admin, json: #"{"publishPrefix":"a/+"}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.error?.hasPrefix("publishPrefix: ") == true)
            let missing = try await client.call(.put, "/api/users/device/publish-prefix", .admin, json: "{}")
            #expect(missing.status == .badRequest)
            let ghost = try await client.call(.put, "/api/users/ghost/publish-prefix", .admin, json: #"{"publishPrefix":"x/"}"#)
            #expect(ghost.status == .notFound)
        }
    }

    @Test func assignAndUnassignRoles() async throws {
        try await Fixture().test { client async throws in
            let assigned = try await client.call(.put, "/api/users/device/roles/viewer", .admin)
            #expect(assigned.status == .ok)
            #expect(assigned.strings("roles") == ["sensor", "viewer"])
            let again = try await client.call(.put, "/api/users/device/roles/viewer", .admin)
            #expect(again.strings("roles") == ["sensor", "viewer"])
            let nope = try await client.call(.put, "/api/users/device/roles/nope", .admin)
            #expect(nope.status == .notFound)
            #expect(nope.error == #"no role named "nope""#)
            #expect(try await client.call(.put, "/api/users/ghost/roles/viewer", .admin).status == .notFound)

            let removed = try await client.call(.delete, "/api/users/device/roles/sensor", .admin)
            #expect(removed.status == .ok)
            #expect(removed.strings("roles") == ["viewer"])
            let notHeld = try await client.call(.delete, "/api/users/device/roles/sensor", .admin)
            #expect(notHeld.status == .notFound)
            #expect(notHeld.error == #"user "device" does not have role "sensor""#)
            #expect(try await client.call(.delete, "/api/users/device/roles/nope", .admin).status == .notFound)
            #expect(try await client.call(.delete, "/api/users/ghost/roles/viewer", .admin).status == .notFound)
        }
    }
}
