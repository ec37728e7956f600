import Testing
@testable import AuthCore

// The client registry in the store: the window (its deadline lives in the database, so every
// process agrees), what one registration attempt records, and allow / deny / block / purge.
// Times are passed as `now:` so expiry is tested without waiting.
@Suite struct RegistryStoreTests {
    static let t0: Int64 = 1_700_000_000
    static let day = Store.pendingMaxAgeSeconds

    /// A database whose window is open from t0 for 10 minutes.
    private func openDatabase() throws -> TestDatabase {
        let db = try TestDatabase(actor: "cli:admin")
        try db.store.unlockRegistry(seconds: 600, now: Self.t0)
        return db
    }

    private func attempt(_ username: String, _ password: String = "device-pass", client: String = "client-1",
                         address: String = "10.0.0.7") -> RegistrationAttempt {
        RegistrationAttempt(username: username, password: password, clientId: client, address: address)
    }

    private func record(_ db: TestDatabase, _ attempt: RegistrationAttempt, at now: Int64 = t0 + 1,
                        maxPending: Int = Store.defaultMaxPending) throws -> RegistrationOutcome {
        try db.store.recordRegistration(attempt, maxPending: maxPending, iterations: 1000, now: now)
    }

    private func pendingCount(_ db: TestDatabase) throws -> Int64 {
        try db.store.db.scalarInt("SELECT count(*) FROM pending_registrations") ?? -1
    }

    // MARK: - the window

    @Test func windowOpensForTheGivenTimeAndClosesByItself() throws {
        let db = try TestDatabase(actor: "cli:admin")
        #expect(!(try db.store.registryWindow().isOpen(at: Self.t0)))
        try db.store.unlockRegistry(seconds: 300, now: Self.t0)
        let window = try db.store.registryWindow()
        #expect(window == RegistryWindow(openUntil: Self.t0 + 300))
        #expect(window.isOpen(at: Self.t0))
        #expect(window.isOpen(at: Self.t0 + 299))
        #expect(window.secondsLeft(at: Self.t0 + 100) == 200)
        #expect(!window.isOpen(at: Self.t0 + 300))
        #expect(window.secondsLeft(at: Self.t0 + 400) == 0)
        // Another process reads the same deadline.
        #expect(try db.connect().registryWindow() == window)
        let changedBy = try db.store.db.prepare("SELECT changed_by FROM registry_window").stepText()
        #expect(changedBy == "cli:admin")
    }

    @Test func lockClosesAtOnce() throws {
        let db = try openDatabase()
        try db.store.lockRegistry(now: Self.t0 + 5)
        #expect(!(try db.store.registryWindow().isOpen(at: Self.t0 + 6)))
        #expect(try db.audit().suffix(2).map(\.action) == ["registry.unlock", "registry.lock"])
    }

    @Test(arguments: [0, -5, Int64(Store.maxWindowMinutes) * 60 + 1])
    func windowLengthIsBounded(seconds: Int64) throws {
        let db = try TestDatabase()
        let error = storeError { () throws(StoreError) in try db.store.unlockRegistry(seconds: seconds, now: Self.t0) }
        #expect(error == .invalid("the registration window can be opened for 1 second to 60 minutes"))
        #expect(try db.store.registryWindow() == RegistryWindow(openUntil: 0))
    }

    // MARK: - recording attempts

    @Test func firstAttemptIsRecordedWithItsDetails() throws {
        let db = try openDatabase()
        #expect(try record(db, attempt("sensor-1"), at: Self.t0 + 10) == .recorded)
        let request = try #require(try db.store.pendingRequest("sensor-1", now: Self.t0 + 10))
        #expect(request.clientId == "client-1")
        #expect(request.address == "10.0.0.7")
        #expect(request.firstSeen == Self.t0 + 10)
        #expect(request.lastSeen == Self.t0 + 10)
        #expect(request.attempts == 1)
        #expect(!request.conflict)
        #expect(request.source == "mqtt")
        #expect(try PasswordHash(parsing: request.passwordHash).verify("device-pass"))
        #expect(!request.passwordHash.contains("device-pass"))
        #expect(try db.audit().last?.action == "registry.request")
    }

    @Test func samePasswordAgainOnlyUpdatesLastSeenAndAttempts() throws {
        let db = try openDatabase()
        _ = try record(db, attempt("sensor-1"), at: Self.t0 + 10)
        let first = try #require(try db.store.pendingRequest("sensor-1", now: Self.t0 + 10))
        #expect(try record(db, attempt("sensor-1", client: "client-2", address: "10.0.0.8"), at: Self.t0 + 20) == .updated)
        let second = try #require(try db.store.pendingRequest("sensor-1", now: Self.t0 + 20))
        #expect(second.attempts == 2)
        #expect(second.firstSeen == Self.t0 + 10)
        #expect(second.lastSeen == Self.t0 + 20)
        #expect(second.passwordHash == first.passwordHash)
        #expect(second.clientId == "client-2")
        #expect(!second.conflict)
    }

    @Test func differentPasswordIsAConflictThatKeepsTheFirstHash() throws {
        let db = try openDatabase()
        _ = try record(db, attempt("sensor-1"), at: Self.t0 + 10)
        let first = try #require(try db.store.pendingRequest("sensor-1", now: Self.t0 + 10))
        #expect(try record(db, attempt("sensor-1", "impostor-pass", client: "evil"), at: Self.t0 + 20) == .conflict)
        #expect(try record(db, attempt("sensor-1", "impostor-pass", client: "evil"), at: Self.t0 + 30) == .conflict)
        let request = try #require(try db.store.pendingRequest("sensor-1", now: Self.t0 + 30))
        #expect(request.conflict)
        #expect(request.conflictAttempts == 2)
        #expect(request.attempts == 3)
        #expect(request.passwordHash == first.passwordHash)
        #expect(request.clientId == "client-1") // the impostor does not get to rewrite the device's details
        // One audit row for the conflict, not one per impostor attempt.
        #expect(try db.audit().filter { $0.action == "registry.conflict" }.count == 1)
    }

    @Test func closedOrExpiredWindowWritesNothing() throws {
        let db = try TestDatabase()
        #expect(try record(db, attempt("sensor-1"), at: Self.t0) == .windowClosed)
        try db.store.unlockRegistry(seconds: 60, now: Self.t0)
        #expect(try record(db, attempt("sensor-1"), at: Self.t0 + 60) == .windowClosed)
        try db.store.unlockRegistry(seconds: 60, now: Self.t0)
        try db.store.lockRegistry(now: Self.t0 + 1)
        let auditBefore = try db.audit()
        #expect(try record(db, attempt("sensor-1"), at: Self.t0 + 2) == .windowClosed)
        #expect(try pendingCount(db) == 0)
        #expect(try db.audit() == auditBefore)
    }

    @Test(arguments: [("ab", "device-pass"), ("sensor-1", "1234"), ("sensor/1", "device-pass"), ("sensor 1", "device-pass")])
    func tooShortOrInvalidCredentialsAreNotRecorded(username: String, password: String) throws {
        let db = try openDatabase()
        #expect(try record(db, attempt(username, password)) == .rejected)
        #expect(try pendingCount(db) == 0)
    }

    @Test func existingUserIsNotRecorded() throws {
        let db = try openDatabase()
        try db.store.addUser(User(username: "sensor-1", passwordHash: TestHash.make("device-pass")))
        #expect(try record(db, attempt("sensor-1", "wrong-pass")) == .userExists)
        #expect(try pendingCount(db) == 0)
    }

    @Test func tableIsCappedButKnownRequestsStillUpdate() throws {
        let db = try openDatabase()
        #expect(try record(db, attempt("sensor-1"), maxPending: 2) == .recorded)
        #expect(try record(db, attempt("sensor-2"), maxPending: 2) == .recorded)
        #expect(try record(db, attempt("sensor-3"), maxPending: 2) == .tableFull)
        #expect(try record(db, attempt("sensor-1"), at: Self.t0 + 2, maxPending: 2) == .updated)
        #expect(try db.store.pendingRequests(now: Self.t0 + 2).map(\.username) == ["sensor-1", "sensor-2"])
    }

    @Test func staleRequestsDoNotCountAgainstTheCap() throws {
        let db = try TestDatabase()
        let longAgo = Self.t0 - Self.day - 10
        try db.store.unlockRegistry(seconds: 600, now: longAgo)
        #expect(try record(db, attempt("sensor-1"), at: longAgo) == .recorded)
        try db.store.unlockRegistry(seconds: 600, now: Self.t0)
        #expect(try record(db, attempt("sensor-2"), at: Self.t0 + 1, maxPending: 1) == .recorded)
        #expect(try record(db, attempt("sensor-3"), at: Self.t0 + 2, maxPending: 1) == .tableFull)
    }

    // MARK: - allow, deny, block

    @Test func allowCreatesTheUserFromTheRecordedHash() throws {
        let db = try openDatabase()
        try db.store.addRole("sensor-writer")
        _ = try record(db, attempt("sensor-1"), at: Self.t0 + 10)
        let recorded = try #require(try db.store.pendingRequest("sensor-1", now: Self.t0 + 10)).passwordHash
        let user = try db.store.allow("sensor-1", roles: ["sensor-writer"], now: Self.t0 + 20)
        #expect(user.passwordHash == recorded)
        #expect(user.origin == .registry)
        #expect(user.roles == ["sensor-writer"])
        #expect(user.enabled)
        #expect(try db.store.requireUser("sensor-1") == user)
        #expect(try db.store.pendingRequest("sensor-1", now: Self.t0 + 20) == nil)
        #expect(try db.audit().suffix(2).map(\.action) == ["user.add", "registry.allow"])
    }

    @Test func allowWithoutRolesGivesAUserThatMayDoNothing() throws {
        let db = try openDatabase()
        _ = try record(db, attempt("sensor-1"))
        let user = try db.store.allow("sensor-1", roles: [], now: Self.t0 + 2)
        #expect(user.roles.isEmpty)
        let snapshot = Snapshot(policy: try db.store.loadPolicy())
        #expect(snapshot.decide(username: "sensor-1", clientId: "c", topic: "a", access: .write) == .denied(.noRoles))
    }

    @Test func allowOfAConflictedRequestNeedsForce() throws {
        let db = try openDatabase()
        _ = try record(db, attempt("sensor-1"), at: Self.t0 + 1)
        _ = try record(db, attempt("sensor-1", "impostor-pass"), at: Self.t0 + 2)
        let error = storeError { () throws(StoreError) in try db.store.allow("sensor-1", roles: [], now: Self.t0 + 3) }
        guard case let .conflict(message) = error else {
            Issue.record("expected .conflict, got \(String(describing: error))")
            return
        }
        #expect(message.contains("\"sensor-1\" is in conflict"))
        #expect(message.contains("--force"))
        #expect(try db.store.user(named: "sensor-1") == nil)
        let user = try db.store.allow("sensor-1", roles: [], force: true, now: Self.t0 + 4)
        // The first password wins: the device's, not the impostor's.
        let hash = try PasswordHash(parsing: user.passwordHash)
        #expect(hash.verify("device-pass"))
        #expect(!hash.verify("impostor-pass"))
        #expect(try db.audit().last?.detail == "roles= forced")
    }

    @Test func allowWithUnknownRoleKeepsTheRequest() throws {
        let db = try openDatabase()
        _ = try record(db, attempt("sensor-1"))
        let error = storeError { () throws(StoreError) in try db.store.allow("sensor-1", roles: ["ghost"], now: Self.t0 + 2) }
        #expect(error == .notFound(kind: "role", name: "ghost"))
        #expect(try db.store.user(named: "sensor-1") == nil)
        #expect(try db.store.pendingRequest("sensor-1", now: Self.t0 + 2) != nil)
    }

    @Test func allowOrDenyOfUnknownRequest() throws {
        let db = try openDatabase()
        let missing = StoreError.notFound(kind: "pending registration", name: "ghost")
        #expect(storeError { () throws(StoreError) in try db.store.allow("ghost", roles: []) } == missing)
        #expect(storeError { () throws(StoreError) in try db.store.deny("ghost") } == missing)
        #expect(missing.description == "no pending registration named \"ghost\"")
    }

    @Test func denyDropsTheRequestAndTheDeviceMayKnockAgain() throws {
        let db = try openDatabase()
        _ = try record(db, attempt("sensor-1"))
        try db.store.deny("sensor-1", now: Self.t0 + 2)
        #expect(try pendingCount(db) == 0)
        #expect(try record(db, attempt("sensor-1"), at: Self.t0 + 3) == .recorded)
    }

    @Test func denyWithBlockKeepsTheNameOutUntilUnblocked() throws {
        let db = try openDatabase()
        _ = try record(db, attempt("sensor-1"))
        try db.store.deny("sensor-1", block: true, now: Self.t0 + 2)
        #expect(try db.store.blockedUsernames() == ["sensor-1"])
        #expect(try record(db, attempt("sensor-1"), at: Self.t0 + 3) == .blocked)
        #expect(try pendingCount(db) == 0)
        // A name can be blocked before it ever knocks.
        try db.store.deny("rogue-1", block: true, now: Self.t0 + 4)
        #expect(try record(db, attempt("rogue-1"), at: Self.t0 + 5) == .blocked)
        try db.store.unblock("sensor-1", now: Self.t0 + 6)
        #expect(try record(db, attempt("sensor-1"), at: Self.t0 + 7) == .recorded)
        #expect(storeError { () throws(StoreError) in try db.store.unblock("sensor-1") }
                == .notFound(kind: "blocked username", name: "sensor-1"))
    }

    // MARK: - 24 h retention

    @Test func requestsNotSeenFor24HoursDisappearAndArePurged() throws {
        let db = try openDatabase()
        _ = try record(db, attempt("old-device"), at: Self.t0 + 1)
        _ = try record(db, attempt("new-device"), at: Self.t0 + 500)
        let later = Self.t0 + 1 + Self.day + 1
        #expect(try db.store.pendingRequests(now: later).map(\.username) == ["new-device"])
        #expect(try db.store.pendingRequest("old-device", now: later) == nil)
        #expect(storeError { () throws(StoreError) in try db.store.allow("old-device", roles: [], now: later) }
                == .notFound(kind: "pending registration", name: "old-device"))
        #expect(try db.store.purgeStalePending(now: later) == 1)
        #expect(try pendingCount(db) == 1)
        #expect(try db.audit().last?.detail == "purged=1")
        // Nothing stale: no row deleted, no audit row.
        let auditBefore = try db.audit()
        #expect(try db.store.purgeStalePending(now: later) == 0)
        #expect(try db.audit() == auditBefore)
    }

    @Test func staleRequestIsReplacedWhenTheNameKnocksAgain() throws {
        let db = try openDatabase()
        _ = try record(db, attempt("sensor-1"), at: Self.t0 + 1)
        let later = Self.t0 + 1 + Self.day + 1
        try db.store.unlockRegistry(seconds: 60, now: later)
        #expect(try record(db, attempt("sensor-1", "other-pass"), at: later) == .recorded)
        let request = try #require(try db.store.pendingRequest("sensor-1", now: later))
        #expect(request.attempts == 1)
        #expect(!request.conflict)
        #expect(try PasswordHash(parsing: request.passwordHash).verify("other-pass"))
    }
}

extension Statement {
    /// First column of the first row as text, or nil when there is no row.
    func stepText() throws -> String? {
        guard try step() else { return nil }
        return optionalText(0)
    }
}
