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
        #expect(auth.authenticate(snap, username: "sensor-1", password: "not-the-password", now: 3) == .wrongPassword)
        #expect(auth.hashVerifications == 3)
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
