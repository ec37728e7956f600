import AuthCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import CWAuthServer

/// Behind a TLS proxy every caller has the proxy's address: one caller's failures must not lock out
/// another's correct password, and an attacker still gets a bounded number of password checks.
@Suite("login throttle behind a shared address")
struct SharedAddressTests {
    static func login(_ client: any TestClientProtocol, _ user: String, _ password: String,
                      headers: HTTPFields = [:]) async throws -> Reply {
        try await client.call(.post, "/api/auth/login", json: #"{"username":"\#(user)","password":"\#(password)"}"#,
                              headers: headers)
    }

    @Test func guessingFromTheSameAddressDoesNotLockOutAdminsWhoLoggedInFromIt() async throws {
        let fixture = try Fixture()
        let store = try fixture.store()
        try store.addUser(User(username: "admin2", passwordHash: PasswordHash.make(password: "admin2-pw-1", iterations: 1000).encoded,
                               roles: ["admin"]))
        try await fixture.test { client async throws in
            // Both admins have logged in from this (the proxy's) address before.
            #expect(try await Self.login(client, "admin", "admin-pw-1").status == .ok)
            #expect(try await Self.login(client, "admin2", "admin2-pw-1").status == .ok)
            // Someone behind the same proxy guesses other names, then admin's password.
            for index in 0..<6 { _ = try await Self.login(client, "guess\(index)", "guess-guess") }
            #expect(try await Self.login(client, "nobody", "guess-guess").status == .tooManyRequests,
                    "the address is still locked for names that never logged in from it")
            #expect(try await Self.login(client, "admin2", "admin2-pw-1").status == .ok)
            #expect(try await client.call(.get, "/api/users", .admin).status == .ok)
            for _ in 0..<5 { #expect(try await Self.login(client, "admin", "guess-guess").status == .unauthorized) }
            // The pair is now in back-off: at most one password check per second, the right one included...
            let fast = try await Self.login(client, "admin", "guess-guess")
            #expect(fast.status == .tooManyRequests)
            #expect(fast.headers[.retryAfter] == "1")
            #expect(try await Self.login(client, "admin", "admin-pw-1").status == .tooManyRequests)
            // ...and a second later the right password gets in, while the other admin never waited.
            #expect(try await Self.login(client, "admin2", "admin2-pw-1").status == .ok)
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await Self.login(client, "admin", "admin-pw-1").status == .ok)
        }
    }

    @Test func trustedPairsGetOneCheckPerInterval() async {
        let throttle = LoginThrottle(limits: .init(maxFailures: 2, windowSeconds: 60))
        await throttle.recordSuccess(username: "alice", address: "proxy", now: 10)
        for _ in 0..<3 { await throttle.recordFailure(username: "bob", address: "proxy", now: 11) }
        #expect(await throttle.retryAfter(username: "carol", address: "proxy", now: 11) != nil)
        #expect(await throttle.retryAfter(username: "alice", address: "proxy", now: 11, nanos: 0) == nil)
        await throttle.recordFailure(username: "alice", address: "proxy", now: 11, nanos: 3_000_000_000)
        #expect(await throttle.retryAfter(username: "alice", address: "proxy", now: 11, nanos: 3_100_000_000) == nil,
                "below the limit: no spacing yet")
        await throttle.recordFailure(username: "alice", address: "proxy", now: 11, nanos: 3_200_000_000)
        #expect(await throttle.retryAfter(username: "alice", address: "proxy", now: 11, nanos: 3_300_000_000) == 1)
        #expect(await throttle.retryAfter(username: "alice", address: "proxy", now: 12, nanos: 5_000_000_000) == nil)
        #expect(await throttle.retryAfter(username: "alice", address: "proxy", now: 12, nanos: 5_500_000_000) == 1)
        #expect(await throttle.retryAfter(username: "alice", address: "proxy", now: 13, nanos: 6_000_000_000) == nil)
        // Failures of the trusted pair did not count against alice elsewhere, nor against the address.
        #expect(await throttle.retryAfter(username: "alice", address: "elsewhere", now: 13) == nil)
        // Trust expires: then alice from the proxy is held to the address's count like anyone.
        for _ in 0..<2 { await throttle.recordFailure(username: "bob", address: "proxy", now: 10 + 86_400) }
        #expect(await throttle.retryAfter(username: "alice", address: "proxy", now: 10 + 86_400) != nil)
    }

    @Test func forwardedForIsBelievedOnlyFromATrustedProxy() {
        let proxies: Set<String> = ["10.0.0.1", "::1"]
        #expect(ClientAddress.resolve(peer: "10.0.0.1", forwardedFor: ["1.2.3.4, 203.0.113.7"], trustedProxies: proxies) == "203.0.113.7")
        #expect(ClientAddress.resolve(peer: "10.0.0.1", forwardedFor: ["1.2.3.4", "203.0.113.7, 10.0.0.1"], trustedProxies: proxies) == "203.0.113.7")
        #expect(ClientAddress.resolve(peer: "0:0::1", forwardedFor: ["2001:DB8::5"], trustedProxies: proxies) == "2001:db8::5")
        #expect(ClientAddress.resolve(peer: "192.0.2.9", forwardedFor: ["203.0.113.7"], trustedProxies: proxies) == "192.0.2.9",
                "an untrusted peer cannot choose its address")
        #expect(ClientAddress.resolve(peer: "10.0.0.1", forwardedFor: ["203.0.113.7, garbage"], trustedProxies: proxies) == "10.0.0.1")
        #expect(ClientAddress.resolve(peer: "10.0.0.1", forwardedFor: [], trustedProxies: proxies) == "10.0.0.1")
        #expect(ClientAddress.resolve(peer: "10.0.0.1", forwardedFor: ["203.0.113.7"], trustedProxies: []) == "10.0.0.1")
    }

    @Test func behindATrustedProxyEachCallerHasItsOwnAddress() async throws {
        let fixture = try Fixture(options: ServerState.Options(registerPerUsernameIntervalNanos: 0, trustedProxies: ["127.0.0.1"]))
        let app = Application(router: CWAuthServer.makeRouter(state: fixture.state))
        try await app.test(.live) { client in
            let attacker: HTTPFields = [ClientAddress.forwardedFor: "198.51.100.66"]
            for index in 0..<6 { _ = try await Self.login(client, "guess\(index)", "guess-guess", headers: attacker) }
            #expect(try await Self.login(client, "nobody", "guess-guess", headers: attacker).status == .tooManyRequests)
            let admin: HTTPFields = [ClientAddress.forwardedFor: "198.51.100.1"]
            #expect(try await Self.login(client, "admin", "admin-pw-1", headers: admin).status == .ok,
                    "another caller behind the proxy, never logged in before, is not locked out")
        }
        let log = try fixture.store().auditLog(limit: 10)
        #expect(log.contains { $0.action == "http.login" && $0.detail.contains("address=198.51.100.1") })
    }
}
