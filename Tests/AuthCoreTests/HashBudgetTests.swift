import Testing
@testable import AuthCore

// Past the broker thread's hashing budget a password is verified elsewhere and the outcome filed
// with `settle`; the client's next attempt is then answered as if it had been verified in place.
@Suite struct HashBudgetTests {
    static let password = "sensor-pass-1"
    static let hash = PasswordHash.make(password: password, iterations: 1000).encoded
    static let second = 1_000_000_000 as UInt64

    func snapshot(enabled: Bool = true) -> Snapshot {
        Snapshot(policy: Policy(users: [User(username: "sensor-1", passwordHash: Self.hash, enabled: enabled)],
                                roles: [], registry: RegistryWindow(openUntil: 0)))
    }

    func check(_ decision: AuthDecision) -> PasswordCheck? {
        if case let .verifyElsewhere(check) = decision { return check }
        return nil
    }

    @Test func withinTheBudgetPasswordsAreVerifiedInPlace() {
        let auth = Authenticator(ttlSeconds: 60, hashBudget: HashBudget(iterationsPerSecond: 1000, burst: 2000))
        let snap = snapshot()
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 1) == .allowed)
        #expect(auth.authenticate(snap, username: "sensor-1", password: "wrong-pass-1", now: 2) == .wrongPassword)
        #expect(auth.hashVerifications == 2)
        // Spent: the third needs another thread.
        #expect(check(auth.authenticate(snap, username: "sensor-1", password: "wrong-pass-2", now: 3)) != nil)
        #expect(auth.hashVerifications == 2)
        // A second later the budget has refilled by one verification.
        #expect(auth.authenticate(snap, username: "sensor-1", password: "wrong-pass-2", now: 3 + Self.second) == .wrongPassword)
    }

    @Test func aSettledSuccessIsAnsweredFromTheCache() throws {
        let auth = Authenticator(ttlSeconds: 60, hashBudget: HashBudget(iterationsPerSecond: 0, burst: 0))
        let snap = snapshot()
        let pending = try #require(check(auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 1)))
        #expect(pending.verify())
        #expect(auth.settle(pending, verified: true, snapshot: snap, now: 2).isEmpty)
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 3) == .allowed)
        #expect(auth.hashVerifications == 0)
        #expect(auth.cacheHits == 1)
    }

    @Test func aSettledFailureIsRememberedAndCountsTowardsTheThrottle() throws {
        let auth = Authenticator(ttlSeconds: 60, hashBudget: HashBudget(iterationsPerSecond: 0, burst: 0))
        let snap = snapshot()
        var backoffs: [PasswordThrottle.BackoffStarted] = []
        for n in 0..<12 {
            let decision = auth.authenticate(snap, username: "sensor-1", password: "guess-\(n)", address: "10.0.0.9", now: UInt64(n + 1))
            guard let pending = check(decision) else { break }
            #expect(!pending.verify())
            backoffs += auth.settle(pending, verified: false, snapshot: snap, now: UInt64(n + 1))
        }
        #expect(!backoffs.isEmpty)
        // The identical guess is not handed out again, and the address is now refused outright.
        if case .throttled = auth.authenticate(snap, username: "sensor-1", password: "guess-99", address: "10.0.0.9", now: 100) {
        } else {
            Issue.record("expected the address to be throttled")
        }
    }

    @Test func aSettlementForAnOldHashIsIgnored() throws {
        let auth = Authenticator(ttlSeconds: 60, hashBudget: HashBudget(iterationsPerSecond: 0, burst: 0))
        let pending = try #require(check(auth.authenticate(snapshot(), username: "sensor-1", password: Self.password, now: 1)))
        let rekeyed = Snapshot(policy: Policy(
            users: [User(username: "sensor-1", passwordHash: PasswordHash.make(password: "new-pass-1", iterations: 1000).encoded)],
            roles: [], registry: RegistryWindow(openUntil: 0)))
        _ = auth.settle(pending, verified: true, snapshot: rekeyed, now: 2)
        #expect(check(auth.authenticate(rekeyed, username: "sensor-1", password: Self.password, now: 3)) != nil)
    }

    @Test func aDisabledUserStaysRefusedAfterSettling() throws {
        let auth = Authenticator(ttlSeconds: 60, hashBudget: HashBudget(iterationsPerSecond: 0, burst: 0))
        let snap = snapshot(enabled: false)
        let pending = try #require(check(auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 1)))
        _ = auth.settle(pending, verified: true, snapshot: snap, now: 2)
        #expect(auth.authenticate(snap, username: "sensor-1", password: Self.password, now: 3) == .userDisabled)
    }

    @Test func theRegistryGateRefillsSmoothly() {
        let gate = RegistryGate(limits: RegistryGate.Limits(perUsernameIntervalNanos: 0, perSecond: 20))
        let admitted = (0..<20).filter { gate.admit(username: "device-\($0)", password: "device-pass", now: 1) == .record }
        #expect(admitted.count == 5)
        // One more every 50 ms, not twenty at the turn of the next second.
        #expect(gate.admit(username: "late-1", password: "device-pass", now: 1 + 50_000_000) == .record)
        #expect(gate.admit(username: "late-2", password: "device-pass", now: 1 + 50_000_000) == .ignore)
    }
}
