import Testing
@testable import AuthCore

// The success cache keeps reconnect storms off PBKDF2, but must never answer for a password or a
// stored hash it has not verified: these tests count real verifications through `hashVerifications`.
@Suite struct AuthenticatorTests {
    static let password = "sensor-pass-1"
    static let hash = PasswordHash.make(password: password, iterations: 1000).encoded
    static let second = 1_000_000_000 as UInt64

    func snapshot(hash: String = hash, enabled: Bool = true) -> Snapshot {
        Snapshot(policy: Policy(users: [User(username: "sensor-1", passwordHash: hash, enabled: enabled)],
                                roles: [], registry: RegistryWindow(openUntil: 0)))
    }

    @Test func secondSuccessComesFromTheCache() {
        let auth = Authenticator(ttlSeconds: 60)
        let snap = snapshot()
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 1) == .allowed)
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 2) == .allowed)
        #expect(auth.hashVerifications == 1)
        #expect(auth.cacheHits == 1)
    }

    @Test func wrongPasswordIsNeverAnsweredFromTheCache() {
        let auth = Authenticator(ttlSeconds: 60)
        let snap = snapshot()
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 1) == .allowed)
        #expect(auth.authenticate(snap, username: "sensor-1", password: "not-the-password", now: 2) == .wrongPassword)
        #expect(auth.authenticate(snap, username: "sensor-1", password: "other-wrong-one", now: 3) == .wrongPassword)
        #expect(auth.hashVerifications == 3)
    }

    @Test func identicalWrongPasswordIsNotHashedAgain() {
        let auth = Authenticator(ttlSeconds: 60)
        let snap = snapshot()
        for i in 1...3 {
            #expect(auth.authenticate(snap, username: "sensor-1", password: "stale-pass", address: "10.0.0.1", now: UInt64(i)) == .wrongPassword)
        }
        #expect(auth.hashVerifications == 1)
        // The admin sets the device's (stale) password: the remembered failure must not outlive the old hash.
        let rekeyed = snapshot(hash: PasswordHash.make(password: "stale-pass", iterations: 1000).encoded)
        #expect(auth.authenticate(rekeyed, username: "sensor-1", password: "stale-pass", address: "10.0.0.1", now: 4) == .allowed)
    }

    @Test func bruteForceFromOneAddressBacksOffWithoutHashing() {
        let auth = Authenticator(ttlSeconds: 60)
        let snap = snapshot()
        var verdicts: [AuthDecision] = []
        for i in 0..<200 {
            verdicts.append(auth.authenticate(snap, username: "sensor-1", password: "guess-\(i)", address: "10.6.6.6",
                                              now: Self.second + UInt64(i) * 1_000_000))
        }
        // 5 failures put the username in back-off; everything after is refused without a hash.
        #expect(auth.hashVerifications == PasswordThrottle.Limits().usernameFailures)
        guard case .throttled(.username, _)? = verdicts.last else {
            Issue.record("expected a username back-off, got \(String(describing: verdicts.last))")
            return
        }
        // The right password from a new address is refused too while the username backs off...
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, address: "10.0.0.9", now: Self.second + 300_000_000)
                != .allowed)
        // ...and is checked again once the back-off is over.
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, address: "10.0.0.9", now: 3 * Self.second) == .allowed)
    }

    @Test func deviceKeepsLoggingInFromItsOwnAddressDuringAnAttack() {
        let auth = Authenticator(ttlSeconds: 0) // no success cache: the exemption itself is tested
        let snap = snapshot()
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, address: "10.0.0.1", now: Self.second) == .allowed)
        for i in 0..<50 {
            _ = auth.authenticate(snap, username: "sensor-1", password: "guess-\(i)", address: "10.6.6.\(i % 3)",
                                  now: Self.second + UInt64(i + 1) * 1_000)
        }
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, address: "10.0.0.1",
                                  now: Self.second + 100_000) == .allowed)
    }

    @Test func backoffDoublesUpToItsCeiling() {
        var throttle = PasswordThrottle()
        let limits = throttle.limits
        var now: UInt64 = 1
        var waits: [UInt64] = []
        for _ in 0..<(limits.addressFailures + 10) {
            for started in throttle.recordFailure(username: "u-\(now)", address: "10.6.6.6", now: now) where started.scope == .address {
                waits.append(started.backoffNanos)
            }
            now += limits.maxBackoffNanos + 1 // every back-off is over before the next try
        }
        #expect(waits.first == limits.firstBackoffNanos)
        #expect(waits.last == limits.maxBackoffNanos)
        #expect(zip(waits, waits.dropFirst()).allSatisfy { $1 == min($0 * 2, limits.maxBackoffNanos) })
    }

    @Test func sprayOverManyAddressesIsBoundedOverall() {
        let auth = Authenticator(ttlSeconds: 60)
        let users = (0..<300).map { User(username: "dev-\($0)", passwordHash: Self.hash) }
        let snap = Snapshot(policy: Policy(users: users, roles: [], registry: RegistryWindow(openUntil: 0)))
        // 300 usernames from 300 addresses within one second: no per-key limit is reached.
        for i in 0..<300 {
            _ = auth.authenticate(snap, username: "dev-\(i)", password: "guess", address: "10.1.\(i / 250).\(i % 250)",
                                  now: Self.second + UInt64(i) * 3_000_000)
        }
        let limits = PasswordThrottle.Limits()
        #expect(auth.hashVerifications <= limits.globalBurst + limits.globalPerSecond + 1)
    }

    @Test func adminChangeClearsTheBackoff() {
        let auth = Authenticator(ttlSeconds: 60)
        let snap = snapshot()
        for i in 0..<10 { _ = auth.authenticate(snap, username: "sensor-1", password: "g\(i)-guess", address: "10.6.6.\(i)", now: 10 + UInt64(i)) }
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, address: "10.0.0.2", now: 100) != .allowed)
        auth.forget(username: "sensor-1")
        // The username's back-off is gone; a second later the overall budget has refilled too.
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, address: "10.0.0.2", now: Self.second + 100) == .allowed)
    }

    @Test func entryExpiresWithItsTTL() {
        let auth = Authenticator(ttlSeconds: 5)
        let snap = snapshot()
        _ = auth.authenticate(snap, username: "sensor-1", password: Self.password, now: Self.second)
        _ = auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 5 * Self.second)
        #expect(auth.hashVerifications == 1)
        _ = auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 7 * Self.second)
        #expect(auth.hashVerifications == 2)
    }

    @Test func changedStoredHashInvalidatesTheEntry() {
        let auth = Authenticator(ttlSeconds: 60)
        #expect(auth.authenticate(snapshot(), username: "sensor-1", password: Self.password, now: 1) == .allowed)
        // `cwauth user passwd`: a new hash; the old password must be checked against it, and fail.
        let rekeyed = snapshot(hash: PasswordHash.make(password: "new-password-9", iterations: 1000).encoded)
        #expect(auth.authenticate(rekeyed, username: "sensor-1", password: Self.password, now: 2) == .wrongPassword)
        #expect(auth.authenticate(rekeyed, username: "sensor-1", password: "new-password-9", now: 3) == .allowed)
        #expect(auth.hashVerifications == 3)
    }

    @Test func disabledUserIsRefusedEvenWhenCached() {
        let auth = Authenticator(ttlSeconds: 60)
        #expect(auth.authenticate(snapshot(), username: "sensor-1", password: Self.password, now: 1) == .allowed)
        #expect(auth.authenticate(snapshot(enabled: false), username: "sensor-1", password: Self.password, now: 2) == .userDisabled)
    }

    @Test func zeroTTLDisablesTheCache() {
        let auth = Authenticator(ttlSeconds: 0)
        let snap = snapshot()
        _ = auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 1)
        _ = auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 2)
        #expect(auth.hashVerifications == 2)
        #expect(auth.cacheHits == 0)
    }

    @Test func unknownAndUnparsableUsers() {
        let auth = Authenticator(ttlSeconds: 60)
        #expect(auth.authenticate(snapshot(), username: "nobody", password: Self.password) == .unknownUser)
        #expect(auth.authenticate(snapshot(hash: "not-a-hash"), username: "sensor-1", password: Self.password) == .wrongPassword)
    }
}
