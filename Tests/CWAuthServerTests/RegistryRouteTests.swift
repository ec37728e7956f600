import AuthCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import CWAuthServer

@Suite("client registry API")
struct RegistryRouteTests {
    @Test func unlockStatusLock() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            let closed = try await client.call(.get, "/api/client-registry", .admin)
            #expect(closed.status == .ok)
            #expect(closed.json == ["open": false, "openUntil": .null, "secondsLeft": 0, "pending": []])

            let open = try await client.call(.post, "/api/client-registry/unlock", .admin)
            #expect(open.status == .ok)
            #expect(open.json?["open"] == .bool(true))
            #expect(open.string("openUntil")?.hasSuffix("Z") == true)
            guard case let .int(left)? = open.json?["secondsLeft"] else { Issue.record("no secondsLeft"); return }
            #expect(left > 240 && left <= 300, "default window is 5 minutes")
            #expect(try fixture.store().registryWindow().isOpen())

            let ten = try await client.call(.post, "/api/client-registry/unlock", .admin, json: #"{"minutes":10}"#)
            guard case let .int(tenLeft)? = ten.json?["secondsLeft"] else { Issue.record("no secondsLeft"); return }
            #expect(tenLeft > 540 && tenLeft <= 600)

            let locked = try await client.call(.post, "/api/client-registry/lock", .admin)
            #expect(locked.status == .ok)
            #expect(locked.json?["open"] == .bool(false))
            #expect(try !fixture.store().registryWindow().isOpen())
        }
    }

    @Test func unlockRejectsBadMinutes() async throws {
        try await Fixture().test { client async throws in
            for body in [#"{"minutes":0}"#, #"{"minutes":61}"#] {
                let reply = try await client.call(.post, "/api/client-registry/unlock", .admin, json: body)
                #expect(reply.status == .badRequest)
                #expect(reply.error == "minutes: must be between 1 and 60")
            }
            let type = try await client.call(.post, "/api/client-registry/unlock", .admin, json: #"{"minutes":"5"}"#)
            #expect(type.error == "minutes: must be an integer, not a string")
            let fraction = try await client.call(.post, "/api/client-registry/unlock", .admin, json: #"{"minutes":2.5}"#)
            #expect(fraction.status == .badRequest)
            let status = try await client.call(.get, "/api/client-registry", .admin)
            #expect(status.json?["open"] == .bool(false))
        }
    }

    @Test func pendingRequestsAllowWithRoles() async throws {
        let fixture = try Fixture()
        let store = try fixture.store()
        try store.unlockRegistry(seconds: 300)
        #expect(try store.recordRegistration(RegistrationAttempt(username: "newdev", password: "newdev-pw", clientId: "c1",
                                                                 address: "10.1.2.3")) == .recorded)
        try await fixture.test { client async throws in
            let status = try await client.call(.get, "/api/client-registry", .admin)
            guard case let .array(pending)? = status.json?["pending"], let request = pending.first else {
                Issue.record("no pending request: \(status.text)"); return
            }
            #expect(request["username"] == "newdev")
            #expect(request["clientId"] == "c1")
            #expect(request["address"] == "10.1.2.3")
            #expect(request["attempts"] == 1)
            #expect(request["conflict"] == false)
            #expect(request["conflictAttempts"] == 0)
            #expect(request["source"] == "mqtt")
            #expect(request["requestedRoles"] == [])

            let unknownRole = try await client.call(.post, "/api/client-registry/pending/newdev/allow", .admin, json: #"{"roles":["nope"]}"#)
            #expect(unknownRole.status == .badRequest)
            #expect(unknownRole.error == #"roles[0]: no role named "nope""#)

            let allowed = try await client.call(.post, "/api/client-registry/pending/newdev/allow", .admin, json: #"{"roles":["sensor"]}"#)
            #expect(allowed.status == .created)
            #expect(allowed.string("username") == "newdev")
            #expect(allowed.string("origin") == "registry")
            #expect(allowed.strings("roles") == ["sensor"])
            let after = try await client.call(.get, "/api/client-registry", .admin)
            #expect(after.json?["pending"] == [])
            let again = try await client.call(.post, "/api/client-registry/pending/newdev/allow", .admin)
            #expect(again.status == .notFound)
            #expect(again.error == #"no pending registration named "newdev""#)
        }
        let user = try #require(try store.user(named: "newdev"))
        #expect(try PasswordHash(parsing: user.passwordHash).verify("newdev-pw"))
    }

    @Test func conflictedRequestNeedsForce() async throws {
        let fixture = try Fixture()
        let store = try fixture.store()
        try store.unlockRegistry(seconds: 300)
        _ = try store.recordRegistration(RegistrationAttempt(username: "twin", password: "first-pw"))
        #expect(try store.recordRegistration(RegistrationAttempt(username: "twin", password: "second-pw")) == .conflict)
        try await fixture.test { client async throws in
            let refused = try await client.call(.post, "/api/client-registry/pending/twin/allow", .admin)
            #expect(refused.status == .conflict)
            #expect(refused.error?.contains(#""force": true"#) == true)
            let type = try await client.call(.post, "/api/client-registry/pending/twin/allow", .admin, json: #"{"force":"yes"}"#)
            #expect(type.status == .badRequest)
            let forced = try await client.call(.post, "/api/client-registry/pending/twin/allow", .admin, json: #"{"force":true}"#)
            #expect(forced.status == .created)
            #expect(forced.strings("roles") == [])
        }
        #expect(try PasswordHash(parsing: try #require(try store.user(named: "twin")).passwordHash).verify("first-pw"))
    }

    @Test func denyAndBlock() async throws {
        let fixture = try Fixture()
        let store = try fixture.store()
        try store.unlockRegistry(seconds: 300)
        _ = try store.recordRegistration(RegistrationAttempt(username: "pest", password: "pest-pw-1"))
        try await fixture.test { client async throws in
            #expect(try await client.call(.post, "/api/client-registry/pending/nobody/deny", .admin).status == .notFound)
            let denied = try await client.call(.post, "/api/client-registry/pending/pest/deny", .admin, json: #"{"block":true}"#)
            #expect(denied.status == .noContent)
            #expect(try await client.call(.get, "/api/client-registry", .admin).json?["pending"] == [])
            // Blocked: the device's own door answers 403 and records nothing.
            let again = try await client.call(.post, "/api/client-registry/register", json: #"{"username":"pest","password":"pest-pw-1"}"#)
            #expect(again.status == .forbidden)
            #expect(again.error?.contains("denied by an administrator") == true)
            #expect(try await client.call(.get, "/api/client-registry", .admin).json?["pending"] == [])
            let field = try await client.call(.post, "/api/client-registry/pending/pest/deny", .admin, json: #"{"forever":true}"#)
            #expect(field.status == .badRequest)
        }
        #expect(try store.blockedUsernames() == ["pest"])
    }
}
