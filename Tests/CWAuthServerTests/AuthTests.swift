import AuthCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import CWAuthServer

@Suite("admin authentication")
struct AuthTests {
    @Test func withoutCredentialsIs401() async throws {
        try await Fixture().test { client async throws in
            let reply = try await client.call(.get, "/api/users")
            #expect(reply.status == .unauthorized)
            #expect(reply.error?.contains("authentication required") == true)
            // Never a Basic challenge: browsers would cache the credentials and send them cross-site.
            #expect(reply.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
        }
    }

    @Test func basicCredentials() async throws {
        try await Fixture().test { client async throws in
            let ok = try await client.call(.get, "/api/users", .admin)
            #expect(ok.status == .ok)
            #expect(ok.json?.names == ["admin", "device", "viewer"])
            let wrong = try await client.call(.get, "/api/users", .basic("admin", "not-the-password"))
            #expect(wrong.status == .unauthorized)
            #expect(wrong.error == "invalid username or password")
            let malformed = try await client.call(.get, "/api/users", headers: [.authorization: "Basic !!!"])
            #expect(malformed.status == .unauthorized)
            let scheme = try await client.call(.get, "/api/users", headers: [.authorization: "Digest x"])
            #expect(scheme.status == .unauthorized)
        }
    }

    /// A certificate user's stored password is only its registration poll secret: even with http
    /// permissions it never logs in to the API with it.
    @Test func aCertificateUserNeverLogsInWithAPassword() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            #expect(try await client.call(.get, "/api/users", .viewer).status == .ok)
            try fixture.store().setAuthMethod("viewer", .certificate)
            let basic = try await client.call(.get, "/api/users", .viewer)
            #expect(basic.status == .unauthorized)
            let login = try await client.call(.post, "/api/auth/login", json: #"{"username":"viewer","password":"viewer-pw-1"}"#)
            #expect(login.status == .unauthorized)
        }
    }

    @Test func userWithoutHTTPPermissionIs403() async throws {
        try await Fixture().test { client async throws in
            let reply = try await client.call(.get, "/api/users", .device)
            #expect(reply.status == .forbidden)
            #expect(reply.error?.contains("may not GET /api/users") == true)
            let login = try await client.call(.post, "/api/auth/login", json: #"{"username":"device","password":"device-pw-1"}"#)
            #expect(login.status == .forbidden)
            #expect(login.error?.contains("no http permissions") == true)
        }
    }

    @Test func readPermissionAllowsGetButNotWrites() async throws {
        try await Fixture().test { client async throws in
            #expect(try await client.call(.get, "/api/roles", .viewer).status == .ok)
            let write = try await client.call(.post, "/api/client-registry/unlock", .viewer, json: "{}")
            #expect(write.status == .forbidden)
            #expect(write.error?.contains("needs an http write permission") == true)
        }
    }

    @Test func permissionIsMatchedAgainstThePath() async throws {
        let fixture = try Fixture()
        let store = try fixture.store()
        try store.addRole("registrar")
        try store.grant("registrar", Permission(resource: "/api/client-registry/#", operation: .readWrite, context: .http))
        try store.addUser(User(username: "registrar", passwordHash: PasswordHash.make(password: "registrar-pw").encoded,
                               roles: ["registrar"]))
        try await fixture.test { client async throws in
            let who = Credentials.basic("registrar", "registrar-pw")
            #expect(try await client.call(.get, "/api/client-registry", who).status == .ok)
            #expect(try await client.call(.post, "/api/client-registry/lock", who).status == .ok)
            #expect(try await client.call(.get, "/api/users", who).status == .forbidden)
        }
    }

    @Test func bearerTokenLoginAndLogout() async throws {
        try await Fixture().test { client async throws in
            let login = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin","password":"admin-pw-1"}"#)
            #expect(login.status == .ok)
            #expect(login.string("username") == "admin")
            #expect(login.string("expiresAt")?.hasSuffix("Z") == true)
            let token = try #require(login.string("token"))
            #expect(login.headers[.setCookie] == nil)
            #expect(try await client.call(.get, "/api/users", .bearer(token)).status == .ok)
            // Bearer requests need no CSRF token.
            #expect(try await client.call(.post, "/api/client-registry/lock", .bearer(token)).status == .ok)
            #expect(try await client.call(.post, "/api/auth/logout", .bearer(token)).status == .noContent)
            #expect(try await client.call(.get, "/api/users", .bearer(token)).status == .unauthorized)
            #expect(try await client.call(.get, "/api/users", .bearer("not-a-token")).status == .unauthorized)
        }
    }

    @Test func loginErrors() async throws {
        try await Fixture().test { client async throws in
            let wrong = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin","password":"nope-nope"}"#)
            #expect(wrong.status == .unauthorized)
            #expect(wrong.error == "invalid username or password")
            let unknown = try await client.call(.post, "/api/auth/login", json: #"{"username":"ghost","password":"nope-nope"}"#)
            #expect(unknown.status == .unauthorized)
            #expect(unknown.error == wrong.error)
            let missing = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin"}"#)
            #expect(missing.status == .badRequest)
            #expect(missing.error == "password: is required")
            let extra = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin","password":"x","remember":1}"#)
            #expect(extra.status == .badRequest)
            #expect(extra.error?.hasPrefix("remember: unknown field") == true)
            let type = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin","password":"admin-pw-1","session":"yes"}"#)
            #expect(type.status == .badRequest)
            #expect(type.error == "session: must be true or false, not a string")
            let notJSON = try await client.call(.post, "/api/auth/login", json: "username=admin")
            #expect(notJSON.status == .badRequest)
            #expect(notJSON.error?.hasPrefix("body: not valid JSON") == true, "\(notJSON.text)")
        }
    }

    @Test func disabledUserCannotLogInAndLosesItsToken() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            let token = try await client.token()
            let viewerToken = try await client.token(Fixture.viewer)
            #expect(try await client.call(.put, "/api/users/viewer/enabled", .bearer(token), json: #"{"enabled":false}"#).status == .ok)
            #expect(try await client.call(.get, "/api/users", .bearer(viewerToken)).status == .unauthorized)
            let login = try await client.call(.post, "/api/auth/login", json: #"{"username":"viewer","password":"viewer-pw-1"}"#)
            #expect(login.status == .unauthorized)
        }
    }

    @Test func passwordChangeEndsTheUsersTokens() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            let adminToken = try await client.token()
            let viewerToken = try await client.token(Fixture.viewer)
            #expect(try await client.call(.get, "/api/users", .bearer(viewerToken)).status == .ok)
            let change = try await client.call(.put, "/api/users/viewer/password", .bearer(adminToken), json: #"{"password":"viewer-pw-2"}"#)
            #expect(change.status == .noContent)
            let stale = try await client.call(.get, "/api/users", .bearer(viewerToken))
            #expect(stale.status == .unauthorized)
            #expect(stale.error == "the password changed since this login: log in again")
            // The admin's own token is untouched; the viewer logs in again with the new password.
            #expect(try await client.call(.get, "/api/users", .bearer(adminToken)).status == .ok)
            let fresh = try await client.token(("viewer", "viewer-pw-2"))
            #expect(try await client.call(.get, "/api/users", .bearer(fresh)).status == .ok)
        }
    }

    @Test func cookieSessionNeedsCSRFTokenForWrites() async throws {
        try await Fixture().test { client async throws in
            let login = try await client.call(.post, "/api/auth/login",
                                              json: #"{"username":"admin","password":"admin-pw-1","session":true}"#)
            #expect(login.status == .ok)
            #expect(login.string("token") == nil)
            let csrf = try #require(login.string("csrfToken"))
            let setCookie = try #require(login.headers[.setCookie])
            #expect(setCookie.hasPrefix("cwauth_session="))
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
                #expect(setCookie.contains("; \(attribute)"), "Set-Cookie lacks \(attribute): \(setCookie)")
            }
            let cookie = String(try #require(setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last))

            let session = try await client.call(.get, "/api/auth/session", .cookie(cookie, csrf: nil))
            #expect(session.status == .ok)
            #expect(session.string("username") == "admin")
            #expect(session.string("csrfToken") == csrf)

            // Reads need no CSRF token.
            #expect(try await client.call(.get, "/api/client-registry", .cookie(cookie, csrf: nil)).status == .ok)
            let missing = try await client.call(.post, "/api/client-registry/unlock", .cookie(cookie, csrf: nil), json: "{}")
            #expect(missing.status == .forbidden)
            #expect(missing.error == "missing or invalid CSRF token")
            // One hex digit changed (the token is random: never "changed" to the digit it already has).
            let forged = (csrf.first == "0" ? "1" : "0") + csrf.dropFirst()
            let wrong = try await client.call(.post, "/api/client-registry/unlock", .cookie(cookie, csrf: forged), json: "{}")
            #expect(wrong.status == .forbidden)
            #expect(wrong.error == "missing or invalid CSRF token")
            // The rejected requests changed nothing.
            let unchanged = try await client.call(.get, "/api/client-registry", .cookie(cookie, csrf: nil))
            #expect(unchanged.json?["open"] == .bool(false))
            let ok = try await client.call(.post, "/api/client-registry/unlock", .cookie(cookie, csrf: csrf), json: "{}")
            #expect(ok.status == .ok)
            #expect(ok.json?["open"] == .bool(true))

            // Logging out is a write too.
            #expect(try await client.call(.post, "/api/auth/logout", .cookie(cookie, csrf: nil)).status == .forbidden)
            let logout = try await client.call(.post, "/api/auth/logout", .cookie(cookie, csrf: csrf))
            #expect(logout.status == .noContent)
            #expect(logout.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await client.call(.get, "/api/auth/session", .cookie(cookie, csrf: nil)).status == .unauthorized)
            #expect(try await client.call(.get, "/api/users", .cookie(cookie, csrf: nil)).status == .unauthorized)
        }
    }

    @Test func sessionEndpointWithoutCookieIs401() async throws {
        try await Fixture().test { client async throws in
            #expect(try await client.call(.get, "/api/auth/session").status == .unauthorized)
            // A bearer token is not a browser session.
            let token = try await client.token()
            #expect(try await client.call(.get, "/api/auth/session", .bearer(token)).status == .unauthorized)
            // A bearer token is not accepted as a cookie either.
            #expect(try await client.call(.get, "/api/users", .cookie(token, csrf: nil)).status == .unauthorized)
        }
    }

    @Test func failedLoginsPerUsernameAreRateLimited() async throws {
        try await Fixture().test { client async throws in
            for _ in 0..<5 {
                let reply = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin","password":"guess-guess"}"#)
                #expect(reply.status == .unauthorized)
            }
            // Even the right password is refused while locked out, and so is Basic.
            let locked = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin","password":"admin-pw-1"}"#)
            #expect(locked.status == .tooManyRequests)
            #expect(locked.error?.contains("too many failed logins") == true)
            let retry = try #require(locked.headers[.retryAfter].flatMap { Int($0) })
            #expect(retry > 0 && retry <= 300)
            #expect(try await client.call(.get, "/api/users", .admin).status == .tooManyRequests)
        }
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            for _ in 0..<5 { _ = try await client.call(.get, "/api/users", .basic("admin", "guess-guess")) }
            let locked = try await client.call(.get, "/api/users", .admin)
            #expect(locked.status == .tooManyRequests)
            let log = try fixture.store().auditLog(limit: 5).map(\.action)
            #expect(log.contains("http.login-locked"))
        }
    }

    @Test func failedLoginsPerAddressAreRateLimited() async throws {
        // Every router-test request comes from the same (empty) address: five different wrong usernames
        // lock the address out, so even the admin's right password is refused from it.
        try await Fixture().test { client async throws in
            for index in 0..<5 {
                let reply = try await client.call(.post, "/api/auth/login", json: #"{"username":"guess\#(index)","password":"guess-guess"}"#)
                #expect(reply.status == .unauthorized)
            }
            let reply = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin","password":"admin-pw-1"}"#)
            #expect(reply.status == .tooManyRequests)
            #expect(reply.headers[.retryAfter] != nil)
        }
    }

    @Test func adminActionsAreAuditedWithTheAdminsName() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            #expect(try await client.call(.post, "/api/client-registry/unlock", .admin, json: #"{"minutes":2}"#).status == .ok)
            let token = try await client.token(Fixture.admin)
            #expect(try await client.call(.put, "/api/users/device/roles/viewer", .bearer(token)).status == .ok)
        }
        let log = try fixture.store().auditLog(limit: 10)
        let unlock = try #require(log.first { $0.action == "registry.unlock" })
        #expect(unlock.actor == "http:admin")
        #expect(unlock.detail == "seconds=120")
        let assign = try #require(log.first { $0.action == "user.assign" })
        #expect(assign.actor == "http:admin")
        #expect(assign.subject == "device")
        #expect(log.contains { $0.action == "http.login" && $0.actor == "http:admin" })
    }
}

@Suite("login throttle")
struct LoginThrottleTests {
    @Test func perUsernameAcrossAddresses() async {
        let throttle = LoginThrottle(limits: .init(maxFailures: 5, windowSeconds: 300))
        for index in 0..<5 { await throttle.recordFailure(username: "alice", address: "10.0.0.\(index)", now: 1000) }
        #expect(await throttle.retryAfter(username: "alice", address: "10.0.0.99", now: 1001) == 299)
        #expect(await throttle.retryAfter(username: "bob", address: "10.0.0.1", now: 1001) == nil)
        #expect(await throttle.retryAfter(username: "alice", address: "10.0.0.99", now: 1300) == nil)
    }

    @Test func successClearsTheUsernameButNotTheAddress() async {
        let throttle = LoginThrottle(limits: .init(maxFailures: 2, windowSeconds: 60))
        await throttle.recordFailure(username: "alice", address: "a", now: 10)
        await throttle.recordFailure(username: "alice", address: "a", now: 11)
        await throttle.recordSuccess(username: "alice", address: "c", now: 11)
        #expect(await throttle.retryAfter(username: "alice", address: "b", now: 12) == nil)
        #expect(await throttle.retryAfter(username: "carol", address: "a", now: 12) == 58)
    }
}

@Suite("http permission matching")
struct HTTPAccessTests {
    @Test func methodsMapToOperations() {
        let read = [Permission(resource: "/api/#", operation: .read, context: .http)]
        #expect(HTTPAccess.allows(read, path: "/api/users", method: .get, username: "a"))
        #expect(HTTPAccess.allows(read, path: "/api/users", method: .head, username: "a"))
        #expect(!HTTPAccess.allows(read, path: "/api/users", method: .post, username: "a"))
        #expect(!HTTPAccess.allows(read, path: "/api/users", method: .delete, username: "a"))
        let mqtt = [Permission(resource: "/api/#", operation: .readWrite, context: .mqtt)]
        #expect(!HTTPAccess.allows(mqtt, path: "/api/users", method: .get, username: "a"))
        let own = [Permission(resource: "/api/users/%u/#", operation: .readWrite, context: .http)]
        #expect(HTTPAccess.allows(own, path: "/api/users/alice/password", method: .put, username: "alice"))
        #expect(!HTTPAccess.allows(own, path: "/api/users/bob/password", method: .put, username: "alice"))
    }

    @Test func emptySegmentsAreMatchedAsTheRouterSeesThem() {
        let users = [Permission(resource: "/api/users", operation: .read, context: .http)]
        #expect(HTTPAccess.allows(users, path: "//api/users/", method: .get, username: "a"))
        let registry = [Permission(resource: "/api/client-registry/#", operation: .readWrite, context: .http)]
        #expect(!HTTPAccess.allows(registry, path: "/api//users", method: .get, username: "a"))
    }

    @Test func headIsARead() async throws {
        try await Fixture().test { client async throws in
            let head = try await client.call(.head, "/api/users", .viewer)
            #expect(head.status == .ok)
            #expect(try await client.call(.head, "/api/users").status == .unauthorized)
        }
    }
}
