import AuthCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import CWAuthServer

@Suite("explicit registration flow")
struct RegisterTests {
    static let device = #"{"username":"sensor-42","password":"device-secret","roles":["sensor","wishful"],"context":"hall 3, line 2"}"#

    @Test func lockedThenPendingThenAllowed() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            func register(_ body: String = Self.device) async throws -> Reply {
                try await client.call(.post, "/api/client-registry/register", json: body)
            }
            let locked = try await register()
            #expect(locked.status == .locked)
            #expect(locked.error?.contains("locked") == true)
            #expect(try fixture.store().pendingRequests().isEmpty, "nothing is recorded while locked")

            #expect(try await client.call(.post, "/api/client-registry/unlock", .admin, json: #"{"minutes":5}"#).status == .ok)
            let recorded = try await register()
            #expect(recorded.status == .accepted)
            #expect(recorded.json == ["status": "pending"])
            let repeated = try await register()
            #expect(repeated.status == .accepted)
            #expect(repeated.json == ["status": "pending"])

            let status = try await client.call(.get, "/api/client-registry", .admin)
            guard case let .array(pending)? = status.json?["pending"], pending.count == 1 else {
                Issue.record("expected one pending request: \(status.text)"); return
            }
            #expect(pending[0]["username"] == "sensor-42")
            #expect(pending[0]["source"] == "http")
            #expect(pending[0]["attempts"] == 2)
            #expect(pending[0]["requestedRoles"] == ["sensor", "wishful"])
            #expect(pending[0]["requestedContext"] == "hall 3, line 2")
            #expect(pending[0]["conflict"] == false)

            let allowed = try await client.call(.post, "/api/client-registry/pending/sensor-42/allow", .admin,
                                                json: #"{"roles":["sensor"]}"#)
            #expect(allowed.status == .created)
            let granted = try await register()
            #expect(granted.status == .created)
            #expect(granted.json == ["username": "sensor-42", "roles": ["sensor"]])

            // Still 201 after the window closes: the device may poll late.
            #expect(try await client.call(.post, "/api/client-registry/lock", .admin).status == .ok)
            #expect(try await register().status == .created)
        }
        let user = try #require(try fixture.store().user(named: "sensor-42"))
        #expect(user.origin == .registry)
        #expect(user.roles == ["sensor"], "requested roles are never granted by themselves")
    }

    @Test func requestedRolesAreNeverGrantedWithoutTheAdmin() async throws {
        let fixture = try Fixture()
        try fixture.store().unlockRegistry(seconds: 300)
        try await fixture.test { client async throws in
            #expect(try await client.call(.post, "/api/client-registry/register", json: Self.device).status == .accepted)
            #expect(try await client.call(.post, "/api/client-registry/pending/sensor-42/allow", .admin).status == .created)
            let granted = try await client.call(.post, "/api/client-registry/register", json: Self.device)
            #expect(granted.json == ["username": "sensor-42", "roles": []])
        }
    }

    @Test func differentPasswordIsAConflictAsInTheMQTTFlow() async throws {
        let fixture = try Fixture()
        try fixture.store().unlockRegistry(seconds: 300)
        try await fixture.test { client async throws in
            #expect(try await client.call(.post, "/api/client-registry/register",
                                          json: #"{"username":"twin-1","password":"first-pw"}"#).status == .accepted)
            let impostor = try await client.call(.post, "/api/client-registry/register",
                                                 json: #"{"username":"twin-1","password":"other-pw"}"#)
            #expect(impostor.status == .conflict)
            #expect(impostor.error?.contains("different password") == true)
            // The first device keeps polling with its password: still pending, first hash kept.
            #expect(try await client.call(.post, "/api/client-registry/register",
                                          json: #"{"username":"twin-1","password":"first-pw"}"#).status == .accepted)
        }
        let request = try #require(try fixture.store().pendingRequest("twin-1"))
        #expect(request.conflict)
        #expect(request.conflictAttempts == 1)
        #expect(request.attempts == 3)
        #expect(try PasswordHash(parsing: request.passwordHash).verify("first-pw"))
        #expect(try fixture.store().auditLog(limit: 10).contains { $0.action == "registry.conflict" })
    }

    @Test func pendingDevicePollsOnAfterTheWindowCloses() async throws {
        let fixture = try Fixture()
        let store = try fixture.store()
        try store.unlockRegistry(seconds: 300)
        try await fixture.test { client async throws in
            #expect(try await client.call(.post, "/api/client-registry/register",
                                          json: #"{"username":"late-1","password":"late-pw-1"}"#).status == .accepted)
            try fixture.store().lockRegistry()
            #expect(try await client.call(.post, "/api/client-registry/register",
                                          json: #"{"username":"late-1","password":"late-pw-1"}"#).status == .accepted)
            #expect(try await client.call(.post, "/api/client-registry/register",
                                          json: #"{"username":"late-1","password":"wrong-pw-1"}"#).status == .locked)
            #expect(try await client.call(.post, "/api/client-registry/register",
                                          json: #"{"username":"new-2","password":"late-pw-1"}"#).status == .locked)
        }
        #expect(try store.pendingRequests().map(\.username) == ["late-1"])
    }

    @Test func existingUsers() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            // Right password: the account is there, whatever created it.
            let own = try await client.call(.post, "/api/client-registry/register", json: #"{"username":"device","password":"device-pw-1"}"#)
            #expect(own.status == .created)
            #expect(own.json == ["username": "device", "roles": ["sensor"]])
            // Wrong password: says no more than an unknown name would while locked…
            let locked = try await client.call(.post, "/api/client-registry/register", json: #"{"username":"device","password":"guess-pw-1"}"#)
            #expect(locked.status == .locked)
            // …and "taken" while open, without recording anything.
            #expect(try await client.call(.post, "/api/client-registry/unlock", .admin).status == .ok)
            let taken = try await client.call(.post, "/api/client-registry/register", json: #"{"username":"device","password":"guess-pw-1"}"#)
            #expect(taken.status == .conflict)
            #expect(taken.error == #"username "device" is already taken"#)
            #expect(try await client.call(.put, "/api/users/device/enabled", .admin, json: #"{"enabled":false}"#).status == .ok)
            let disabled = try await client.call(.post, "/api/client-registry/register", json: #"{"username":"device","password":"device-pw-1"}"#)
            #expect(disabled.status == .forbidden)
        }
        #expect(try fixture.store().pendingRequests().isEmpty)
    }

    @Test func guessingAnExistingPasswordIsThrottled() async throws {
        try await Fixture().test { client async throws in
            for index in 0..<5 {
                let reply = try await client.call(.post, "/api/client-registry/register",
                                                  json: #"{"username":"admin","password":"guess-\#(index)"}"#)
                #expect(reply.status == .locked)
            }
            let reply = try await client.call(.post, "/api/client-registry/register", json: #"{"username":"admin","password":"admin-pw-1"}"#)
            #expect(reply.status == .tooManyRequests)
        }
    }

    @Test func badBodies() async throws {
        let fixture = try Fixture()
        try fixture.store().unlockRegistry(seconds: 300)
        try await fixture.test { client async throws in
            func register(_ body: String) async throws -> Reply {
                try await client.call(.post, "/api/client-registry/register", json: body)
            }
            let cases: [(String, String)] = [
                (#"{"username":"ab","password":"long-enough"}"#, "username: "),
                (#"{"username":"abc","password":"1234"}"#, "password: "),
                (#"{"password":"long-enough"}"#, "username: is required"),
                (#"{"username":"abc"}"#, "password: is required"),
                (#"{"username":123,"password":"long-enough"}"#, "username: must be a string, not a number"),
                (#"{"username":"abc","password":"long-enough","roles":"sensor"}"#, "roles: must be an array of strings"),
                (#"{"username":"abc","password":"long-enough","roles":[true]}"#, "roles[0]: must be a string"),
                (#"{"username":"abc","password":"long-enough","context":7}"#, "context: must be a string"),
                (#"{"username":"abc","password":"long-enough","context":"two\nlines"}"#, "context: "),
                (#"{"username":"abc","password":"long-enough","csr":"..."}"#, "csr is not a PEM certificate signing request"),
                (#"{"username":"abc","password":"long-enough","roles":["a b"]}"#, "roles[0]: "),
                ("not json", "body: not valid JSON"),
                ("[]", "body: must be a JSON object"),
            ]
            for (body, message) in cases {
                let reply = try await register(body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.error?.hasPrefix(message) == true, "\(body) → \(reply.text)")
            }
        }
        #expect(try fixture.store().pendingRequests().isEmpty)
    }

    @Test func repeatsFasterThanTheGateAre429() async throws {
        let fixture = try Fixture(options: ServerState.Options(registerPerUsernameIntervalNanos: 60_000_000_000))
        try fixture.store().unlockRegistry(seconds: 300)
        try await fixture.test { client async throws in
            let body = #"{"username":"eager-1","password":"eager-pw-1"}"#
            #expect(try await client.call(.post, "/api/client-registry/register", json: body).status == .accepted)
            let fast = try await client.call(.post, "/api/client-registry/register", json: body)
            #expect(fast.status == .tooManyRequests)
            #expect(fast.headers[.retryAfter] == "1")
        }
        #expect(try fixture.store().pendingRequest("eager-1")?.attempts == 1)
    }

    @Test func aFloodCannotFillThePendingTable() async throws {
        let fixture = try Fixture(options: ServerState.Options(maxPending: 3, registerPerUsernameIntervalNanos: 0))
        try fixture.store().unlockRegistry(seconds: 300)
        try await fixture.test { client async throws in
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<6 {
                let reply = try await client.call(.post, "/api/client-registry/register",
                                                  json: #"{"username":"flood-\#(index)","password":"flood-pw"}"#)
                statuses.append(reply.status)
            }
            #expect(statuses == [.accepted, .accepted, .accepted, .serviceUnavailable, .serviceUnavailable, .serviceUnavailable])
        }
        #expect(try fixture.store().pendingRequests().count == 3)
    }
}
