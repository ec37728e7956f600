#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import AuthCore

/// Collects what BrokerCore would send to mosquitto_log_printf.
final class LogLines: Sendable {
    private let lines = Mutex<[(LogLevel, String)]>([])

    var logger: BrokerCore.Logger { { [self] level, line in lines.withLock { $0.append((level, line)) } } }

    func matching(_ level: LogLevel, _ fragment: String) -> [String] {
        lines.withLock { $0.filter { $0.0 == level && $0.1.contains(fragment) }.map(\.1) }
    }

    func all(_ level: LogLevel) -> [String] {
        lines.withLock { $0.filter { $0.0 == level }.map(\.1) }
    }
}

// Everything the plugin decides, over a real database file: authentication, ACL checks in the broker's
// terms, live reload on tick, kicks, and failing closed when the file goes away.
@Suite struct BrokerCoreTests {
    static let second: UInt64 = 1_000_000_000

    final class Fixture {
        let db: TestDatabase
        let log = LogLines()
        let core: BrokerCore
        /// The administrator's `cwauth`, beside the broker.
        let cli: Store

        init(options: (inout PluginOptions) -> Void = { _ in }, answersLater: Bool = false,
             prepare: (Store) throws -> Void = { _ in }) throws {
            db = try TestDatabase(actor: "cli:admin")
            let s = db.store
            try s.addRole("writer")
            try s.grant("writer", Permission(resource: "factory/+/telemetry/#", operation: .write))
            try s.grant("writer", Permission(resource: "devices/%u/cmd", operation: .read))
            try s.addRole("reader")
            try s.grant("reader", Permission(resource: "factory/#", operation: .read))
            try s.addRole("site")
            try s.grant("site", Permission(resource: "site1/x/#", operation: .write))
            try s.addUser(User(username: "sensor-1", passwordHash: TestHash.make("sensor-pass"), roles: ["writer"]))
            try s.addUser(User(username: "dash", passwordHash: TestHash.make("dash-pass"), roles: ["reader"]))
            try s.addUser(User(username: "off-1", passwordHash: TestHash.make("off-pass"), enabled: false, roles: ["writer"]))
            try s.addUser(User(username: "gateway", passwordHash: TestHash.make("gate-pass"), roles: ["site"],
                               publishPrefix: "site1/"))
            try prepare(s)
            var pluginOptions = PluginOptions(databasePath: db.path)
            options(&pluginOptions)
            core = try BrokerCore(options: pluginOptions, log: log.logger, answersLater: answersLater)
            cli = try db.connect(actor: "cli:admin")
        }

        func allows(_ user: String?, _ topic: String, _ access: BrokerAccess, client: String = "c1") -> Bool {
            core.aclCheck(username: user, clientId: client, topic: topic, access: access)
        }

        /// A login as the broker makes it, then what the plugin's threads do with it filed (the
        /// registry writer's row, a verification done elsewhere).
        func login(_ user: String?, _ password: String?) -> Bool {
            let answer = core.authenticate(username: user, password: password, clientId: "c1", address: "127.0.0.1")
            core.settleBackgroundWork()
            return answer == .allow
        }
    }

    // MARK: - authentication

    @Test func authentication() throws {
        let f = try Fixture()
        #expect(f.login("sensor-1", "sensor-pass"))
        #expect(!f.login("sensor-1", "wrong-pass"))
        #expect(!f.login("nobody", "sensor-pass"))
        #expect(!f.login("off-1", "off-pass"))
        #expect(!f.login(nil, "sensor-pass"))
        #expect(!f.login("", "sensor-pass"))
        #expect(!f.login("sensor-1", nil))
        #expect(f.log.matching(.debug, "auth deny: off-1 is disabled").count == 1)
    }

    @Test func unknownUserIsRecordedOnlyWhileTheWindowIsOpen() throws {
        let f = try Fixture()
        #expect(!f.login("new-device", "device-pass"))
        #expect(try f.cli.pendingRequests().isEmpty)

        try f.cli.unlockRegistry(seconds: 600)
        _ = f.core.tick(now: 1 * Self.second)
        #expect(!f.login("new-device", "device-pass"))
        let pending = try f.cli.pendingRequests()
        #expect(pending.map(\.username) == ["new-device"])
        #expect(pending.first?.address == "127.0.0.1")
        #expect(f.log.matching(.notice, "registry: new request from new-device").count == 1)
        #expect(f.log.matching(.notice, "registry: window open").count == 1)
    }

    @Test func aRegistrationWaitsForAHeldLockOffTheBrokerThread() throws {
        let f = try Fixture()
        try f.cli.unlockRegistry(seconds: 600)
        _ = f.core.tick(now: 1 * Self.second)
        let holder = try f.db.connect(actor: "cli:apply")
        try holder.db.execute("BEGIN IMMEDIATE")
        // The broker's thread only queues the attempt: it answers at once although the lock is held.
        #expect(f.core.authenticate(username: "locked-out", password: "device-pass", clientId: "c9", address: "10.0.0.5") == .deny)
        usleep(300_000)
        try holder.db.execute("COMMIT")
        f.core.settleBackgroundWork()
        #expect(try f.cli.pendingRequests().map(\.username) == ["locked-out"])
        #expect(f.log.matching(.notice, "registry: new request from locked-out").count == 1)
    }

    @Test func pastTheHashBudgetALoginComesBackAndIsAnsweredFromTheCache() throws {
        let f = try Fixture(options: { $0.hashBudgetMs = 0 })
        #expect(f.core.authenticate(username: "sensor-1", password: "sensor-pass", clientId: "c1", address: "10.0.0.5") == .comeBack)
        #expect(f.core.authenticate(username: "dash", password: "wrong-pass", clientId: "c2", address: "10.0.0.6") == .comeBack)
        f.core.settleBackgroundWork()
        #expect(f.core.authenticate(username: "sensor-1", password: "sensor-pass", clientId: "c1", address: "10.0.0.5") == .allow)
        #expect(f.core.authenticate(username: "dash", password: "wrong-pass", clientId: "c2", address: "10.0.0.6") == .deny)
        #expect(f.log.matching(.debug, "auth allow: sensor-1 (client c1, from cache)").count == 1)
        _ = f.core.tick(now: 1 * Self.second)
        #expect(f.log.matching(.notice, "asked 2 login(s) to reconnect").count == 1)
    }

    @Test func whenTheBrokerCanWaitALoginIsAnsweredLater() throws {
        // The costliest hash allowed (~13 ms): the second login below comes while the first is still
        // being verified, however fast the verifier thread gets to it.
        let f = try Fixture(options: { $0.hashBudgetMs = 0 }, answersLater: true) { store in
            try store.setPassword("sensor-1", hash: PasswordHash.make(password: "sensor-pass",
                                                                      iterations: PasswordHash.iterationRange.upperBound).encoded)
        }
        #expect(f.core.authenticate(username: "sensor-1", password: "sensor-pass", clientId: "c1", address: "10.0.0.5") == .later)
        // The same password again while it is being verified: one verification, two answers.
        #expect(f.core.authenticate(username: "sensor-1", password: "sensor-pass", clientId: "c1b", address: "10.0.0.5") == .later)
        #expect(f.core.authenticate(username: "dash", password: "wrong-pass", clientId: "c2", address: "10.0.0.6") == .later)
        #expect(f.core.authenticate(username: "off-1", password: "off-pass", clientId: "c3", address: "10.0.0.7") == .later)
        f.core.settleBackgroundWork()
        let answers = f.core.takeLateAnswers()
        #expect(Set(answers.map { "\($0.clientId)=\($0.allowed)" }) == ["c1=true", "c1b=true", "c2=false", "c3=false"])
        #expect(f.core.takeLateAnswers().isEmpty)
        // Filed as if verified in place: the next login is answered from the cache.
        #expect(f.core.authenticate(username: "sensor-1", password: "sensor-pass", clientId: "c1", address: "10.0.0.5") == .allow)
    }

    @Test func guessesAtOneUsernameGetTwoChecksQueuedFromAnyNumberOfAddresses() throws {
        // The costliest hash allowed (~13 ms): no guess is verified before the last one arrives.
        let f = try Fixture(options: { $0.hashBudgetMs = 0 }) { store in
            try store.setPassword("sensor-1", hash: PasswordHash.make(password: "sensor-pass",
                                                                      iterations: PasswordHash.iterationRange.upperBound).encoded)
        }
        let answers = (0..<10).map { n in
            f.core.authenticate(username: "sensor-1", password: "guess-\(n)", clientId: "c\(n)", address: "10.0.0.\(n)")
        }
        #expect(answers.allSatisfy { $0 == .comeBack })
        f.core.settleBackgroundWork()
        _ = f.core.tick(now: 1 * Self.second)
        let line = try #require(f.log.matching(.notice, "asked 10 login(s) to reconnect").first)
        #expect(line.contains("username has 2 checks queued: 8"), "\(line)")
    }

    @Test func manyDevicesBehindOneAddressAreAllVerifiedWhileTheVerifierHasRoom() throws {
        let devices = (0..<40).map { "gw-device-\($0)" }
        let f = try Fixture(options: { $0.hashBudgetMs = 0 }, answersLater: true) { store in
            for name in devices {
                try store.addUser(User(username: name, passwordHash: PasswordHash.make(password: name + "-pass", iterations: 1_000).encoded))
            }
        }
        // One gateway address: every login is held for the verifier, none asked to come back.
        for (n, name) in devices.enumerated() {
            #expect(f.core.authenticate(username: name, password: name + "-pass", clientId: "c\(n)", address: "10.9.9.9") == .later)
        }
        f.core.settleBackgroundWork()
        #expect(f.core.takeLateAnswers().filter(\.allowed).count == devices.count)
        #expect(f.log.matching(.notice, "to reconnect").isEmpty)
    }

    @Test func anAddressMayUseAQuarterOfTheVerifierRoomLeft() {
        #expect(BrokerCore.verificationsAllowed(perAddressQueued: 3, total: 1020))
        #expect(!BrokerCore.verificationsAllowed(perAddressQueued: 4, total: 1020), "at least 4, never fewer")
        #expect(BrokerCore.verificationsAllowed(perAddressQueued: 203, total: 203))
        #expect(!BrokerCore.verificationsAllowed(perAddressQueued: 205, total: 205), "one address alone stops near a fifth")
        #expect(!BrokerCore.verificationsAllowed(perAddressQueued: 100, total: 700))
    }

    @Test func aClientIdOfAnotherUserIsRefusedWithoutHashing() throws {
        let f = try Fixture()
        #expect(f.core.authenticate(username: "dash", password: "dash-pass", clientId: "sensor-1-main", address: "10.0.0.5") == .deny)
        #expect(f.core.authenticate(username: "dash", password: "dash-pass", clientId: "sensor-1", address: "10.0.0.5") == .deny)
        #expect(f.log.matching(.debug, "dash may not use client id sensor-1-main: it belongs to user sensor-1").count == 1)
        #expect(f.core.authenticate(username: "sensor-1", password: "sensor-pass", clientId: "sensor-1-main", address: "10.0.0.5") == .allow)
        #expect(f.core.authenticate(username: "dash", password: "dash-pass", clientId: "dash-2", address: "10.0.0.5") == .allow)
        #expect(f.core.authenticate(username: "dash", password: "dash-pass", clientId: "mosq-xyz", address: "10.0.0.5") == .allow)
    }

    @Test func registryOffRecordsNothing() throws {
        let f = try Fixture(options: { $0.registryEnabled = false }, prepare: { try $0.unlockRegistry(seconds: 600) })
        #expect(!f.login("new-device", "device-pass"))
        #expect(try f.cli.pendingRequests().isEmpty)
    }

    // MARK: - ACL checks

    @Test func publishAndDelivery() throws {
        let f = try Fixture()
        #expect(f.allows("sensor-1", "factory/l1/telemetry/t", .write))
        #expect(!f.allows("sensor-1", "factory/l1/status", .write))
        #expect(!f.allows("sensor-1", "factory/l1/telemetry/t", .read))
        #expect(f.allows("sensor-1", "devices/sensor-1/cmd", .read))
        #expect(!f.allows("sensor-1", "devices/dash/cmd", .read))
        #expect(f.allows("dash", "factory/l1/status", .read))
        #expect(!f.allows("dash", "factory/l1/status", .write))
        #expect(!f.allows("off-1", "factory/l1/telemetry/t", .write))
        #expect(!f.allows("nobody", "factory/l1/telemetry/t", .write))
        #expect(!f.allows(nil, "factory/l1/telemetry/t", .write))
    }

    @Test func subscribeNeedsAReadPermissionCoveringTheWholeFilter() throws {
        let f = try Fixture()
        #expect(f.allows("dash", "factory/#", .subscribe))
        #expect(f.allows("dash", "factory/+/status", .subscribe))
        #expect(!f.allows("dash", "#", .subscribe))
        #expect(!f.allows("sensor-1", "factory/#", .subscribe))
        #expect(f.allows("sensor-1", "devices/sensor-1/cmd", .subscribe))
        #expect(!f.allows("sensor-1", "devices/+/cmd", .subscribe))
        // A shared subscription is about the filter after the group.
        #expect(f.allows("dash", "$share/group-a/factory/+/status", .subscribe))
        #expect(!f.allows("dash", "$share/group-a/devices/#", .subscribe))
    }

    @Test func unsubscribeIsAlwaysAllowed() throws {
        let f = try Fixture()
        #expect(f.allows("dash", "anything/#", .unsubscribe))
        #expect(f.allows("nobody", "#", .unsubscribe))
        #expect(f.allows(nil, "#", .unsubscribe))
    }

    @Test func publishPrefixIsPartOfTheCheckedTopic() throws {
        let f = try Fixture()
        // `gateway` publishes x/y; the broker rewrites it to site1/x/y, which its permission names.
        #expect(f.allows("gateway", "x/y", .write))
        #expect(!f.allows("gateway", "site1/x/y", .write))
        #expect(!f.allows("gateway", "y/z", .write))
        #expect(f.core.snapshot.brokerDecision(username: "gateway", clientId: "", topic: "x/y", access: .write).checkedTopic == "site1/x/y")
        #expect(f.core.snapshot.brokerDecision(username: "sensor-1", clientId: "", topic: "x/y", access: .write).checkedTopic == "x/y")
    }

    /// What MOSQ_EVT_MESSAGE hands the broker: the prefix while some user has one, nothing once none has.
    @Test func thePublishRewriteFollowsThePrefixesOfThePolicy() throws {
        let f = try Fixture()
        func prefix(_ user: String) -> String? {
            user.withCString { u in f.core.withPublishPrefix(username: u) { String(decoding: $0, as: UTF8.self) } }
        }
        #expect(prefix("gateway") == "site1/")
        #expect(prefix("sensor-1") == nil)
        #expect(f.core.snapshot.hasPublishPrefixes)

        try f.cli.setPublishPrefix("gateway", nil)
        _ = f.core.tick(now: 3 * Self.second)
        #expect(!f.core.snapshot.hasPublishPrefixes)
        #expect(prefix("gateway") == nil)
        #expect(f.allows("gateway", "site1/x/y", .write))

        try f.cli.setPublishPrefix("sensor-1", "plant/")
        _ = f.core.tick(now: 6 * Self.second)
        #expect(prefix("sensor-1") == "plant/")
        #expect(prefix("gateway") == nil)
    }

    @Test func denialsAreLoggedWithTheReasonUnlessSwitchedOff() throws {
        let f = try Fixture()
        _ = f.allows("sensor-1", "factory/l1/status", .write)
        #expect(f.log.matching(.debug, "acl deny").contains(
            "acl deny write: sensor-1 (client c1) on factory/l1/status: no permission of the user's roles matches"))
        let quiet = try Fixture(options: { $0.logDenials = false })
        _ = quiet.allows("sensor-1", "factory/l1/status", .write)
        #expect(quiet.log.matching(.debug, "acl deny").isEmpty)
    }

    // MARK: - live changes on tick

    // MARK: - counters on $SYS

    @Test func countersCountWhatClientsCaused() throws {
        let f = try Fixture()
        #expect(f.login("sensor-1", "sensor-pass"))
        #expect(!f.login("sensor-1", "wrong-pass"))
        #expect(!f.login("nobody", "whatever-pass"))
        #expect(!f.login(nil, "sensor-pass"))
        #expect(f.allows("sensor-1", "factory/l1/telemetry/t", .write))
        #expect(!f.allows("sensor-1", "factory/l1/other", .write))
        #expect(!f.allows(nil, "factory/l1/other", .read))
        #expect(f.allows("sensor-1", "anything", .unsubscribe), "unsubscribe is no decision: not counted")
        try f.cli.unlockRegistry(seconds: 600)
        _ = f.core.tick(now: 1 * Self.second)
        #expect(!f.login("new-device", "device-pass"))
        #expect(!f.login("new-device", "device-pass"), "within 0.5 s of the first: dropped by the gate")
        _ = f.core.tick(now: 2 * Self.second)

        let stats = f.core.stats()
        #expect(stats.authAllowed == 1)
        #expect(stats.authDenied == 5)
        #expect(stats.aclAllowed == 1)
        #expect(stats.aclDenied == 2)
        #expect(stats.registryRecorded == 1)
        #expect(stats.registryDropped == 1)
        #expect(stats.rebuilds == 1, "the unlock changed the policy counter")
        #expect(stats.users == 4)
        #expect(stats.rules == 4)
    }

    @Test func countersArePublishedEverySysInterval() throws {
        let f = try Fixture { $0.sysIntervalSeconds = 10 }
        let first = f.core.statsDue(now: 1 * Self.second)
        #expect(first.map(\.topic).contains("$SYS/broker/cwauth/acl/denied"))
        #expect(first.count == 12)
        #expect(f.core.statsDue(now: 5 * Self.second).isEmpty)
        _ = f.allows("sensor-1", "factory/l1/other", .write)
        let next = f.core.statsDue(now: 11 * Self.second)
        #expect(next.first { $0.topic == "$SYS/broker/cwauth/acl/denied" }?.payload == "1")

        let off = try Fixture { $0.sysIntervalSeconds = 0 }
        #expect(off.core.statsDue(now: 1 * Self.second).isEmpty)
    }

    @Test func changeThroughAnotherConnectionIsPickedUpOnTheNextProbe() throws {
        let f = try Fixture()
        #expect(f.core.tick(now: 1 * Self.second).isEmpty)
        try f.cli.revoke("writer", resource: "factory/+/telemetry/#")
        #expect(f.allows("sensor-1", "factory/l1/telemetry/t", .write), "nothing changes before a probe")
        // Within the probe interval (250 ms by default) tick does not look.
        #expect(f.core.tick(now: 1 * Self.second + 100_000_000).isEmpty)
        #expect(f.allows("sensor-1", "factory/l1/telemetry/t", .write))
        #expect(f.core.tick(now: 2 * Self.second).isEmpty, "losing a permission is not a reason to kick")
        #expect(!f.allows("sensor-1", "factory/l1/telemetry/t", .write))
        #expect(f.allows("sensor-1", "devices/sensor-1/cmd", .read))
    }

    @Test func newUserCanLogInAfterTheProbe() throws {
        let f = try Fixture()
        try f.cli.addUser(User(username: "late-1", passwordHash: TestHash.make("late-pass"), roles: ["reader"]))
        #expect(!f.login("late-1", "late-pass"))
        _ = f.core.tick(now: 1 * Self.second)
        #expect(f.login("late-1", "late-pass"))
        #expect(f.allows("late-1", "factory/a", .read))
    }

    @Test func disabledRemovedRekeyedAndRoleLosingUsersAreKicked() throws {
        let f = try Fixture()
        #expect(f.login("sensor-1", "sensor-pass"))
        try f.cli.setEnabled("sensor-1", false)
        #expect(f.core.tick(now: 1 * Self.second) == ["sensor-1"])
        #expect(!f.login("sensor-1", "sensor-pass"), "the cached success must not outlive the disable")

        try f.cli.removeUser("dash")
        #expect(f.core.tick(now: 2 * Self.second) == ["dash"])

        try f.cli.setPassword("gateway", hash: TestHash.make("new-gate-pass"))
        #expect(f.core.tick(now: 3 * Self.second) == ["gateway"])
        #expect(!f.login("gateway", "gate-pass"))
        #expect(f.login("gateway", "new-gate-pass"))

        try f.cli.addUser(User(username: "sensor-2", passwordHash: TestHash.make("sensor-pass"), roles: ["writer"]))
        _ = f.core.tick(now: 4 * Self.second)
        try f.cli.removeRole("writer")
        // off-1 held the role too; it is disabled, but a kick of a user without clients is harmless.
        #expect(f.core.tick(now: 5 * Self.second) == ["off-1", "sensor-1", "sensor-2"])

        try f.cli.addRole("more")
        #expect(f.core.tick(now: 6 * Self.second).isEmpty, "an unrelated change kicks nobody")
        #expect(f.log.matching(.notice, "disconnecting sensor-2").count == 1)
    }

    // MARK: - failing closed

    @Test func deletedDatabaseKeepsTheLastSnapshotAndLogsOnce() throws {
        let f = try Fixture()
        _ = f.core.tick(now: 1 * Self.second)
        Files.removeDatabase(f.db.path)
        // The CLI's open connection still writes into the unlinked file: the broker must not see it.
        try f.cli.addUser(User(username: "ghost-1", passwordHash: TestHash.make("ghost-pass"), roles: ["reader"]))
        try f.cli.grant("reader", Permission(resource: "#", operation: .read))

        #expect(f.core.tick(now: 2 * Self.second).isEmpty)
        #expect(f.core.tick(now: 3 * Self.second).isEmpty)
        #expect(f.core.tick(now: 4 * Self.second).isEmpty)
        #expect(f.log.all(.error) == ["database \(f.db.path) is missing; serving the last good snapshot"])

        #expect(f.login("sensor-1", "sensor-pass"))
        #expect(f.allows("sensor-1", "factory/l1/telemetry/t", .write))
        #expect(f.allows("dash", "factory/x", .read))
        #expect(!f.login("ghost-1", "ghost-pass"))
        #expect(!f.allows("dash", "other/x", .read))
        #expect(!f.allows("dash", "#", .subscribe))
        #expect(!f.allows("nobody", "factory/l1/telemetry/t", .write))
    }

    @Test func restoredDatabaseIsReadAgain() throws {
        let f = try Fixture()
        let dashHash = try f.cli.requireUser("dash").passwordHash
        _ = f.core.tick(now: 1 * Self.second)
        Files.removeDatabase(f.db.path)
        _ = f.core.tick(now: 2 * Self.second)
        // A different database appears at the path (restored from elsewhere): the broker follows it.
        do {
            let restored = try Store.initialize(path: f.db.path, actor: "cli:admin").store
            try restored.addRole("reader")
            try restored.grant("reader", Permission(resource: "factory/#", operation: .read))
            try restored.addUser(User(username: "dash", passwordHash: dashHash, roles: ["reader"]))
        }
        // Users the restored file does not have are kicked; `dash` is the same there and stays.
        #expect(f.core.tick(now: 3 * Self.second) == ["gateway", "off-1", "sensor-1"])
        #expect(f.log.matching(.notice, "is readable again").count == 1)
        #expect(!f.login("sensor-1", "sensor-pass"))
        #expect(f.login("dash", "dash-pass"))
    }

    @Test func databaseReplacedByGarbageIsNotTrusted() throws {
        let f = try Fixture()
        _ = f.core.tick(now: 1 * Self.second)
        let garbage = f.db.directory.file("garbage")
        Files.write(garbage, Array(repeating: 0x42, count: 8192))
        Files.removeDatabase(f.db.path)
        #expect(rename(garbage, f.db.path) == 0)
        #expect(f.core.tick(now: 2 * Self.second).isEmpty)
        #expect(f.core.tick(now: 3 * Self.second).isEmpty)
        #expect(f.log.all(.error) == ["\(f.db.path) is not a cwauth database; serving the last good snapshot"])
        #expect(f.login("sensor-1", "sensor-pass"))
        #expect(!f.allows("sensor-1", "factory/l1/status", .write))
    }

    @Test func startRefusesAMissingOrForeignDatabase() throws {
        let dir = TemporaryDirectory()
        let log = LogLines()
        let missing = storeError { () throws(StoreError) in
            try BrokerCore(options: PluginOptions(databasePath: dir.database), log: log.logger)
        }
        #expect(missing == .noDatabase(path: dir.database))
        Files.write(dir.database, Array("not a database".utf8))
        let foreign = storeError { () throws(StoreError) in
            try BrokerCore(options: PluginOptions(databasePath: dir.database), log: log.logger)
        }
        #expect(foreign == .notACwauthDatabase(path: dir.database))
    }
}

// plugin_opt_* as Mosquitto hands them over (names without the prefix).
@Suite struct PluginOptionsTests {
    private func parseError(_ pairs: [(String, String)]) -> PluginOptions.Error? {
        do {
            _ = try PluginOptions.parse(pairs)
            return nil
        } catch {
            return error
        }
    }

    @Test func defaults() throws {
        let options = try PluginOptions.parse([("database", "/var/lib/cwauth/cwauth.db")])
        #expect(options.databasePath == "/var/lib/cwauth/cwauth.db")
        #expect(options.registryEnabled)
        #expect(options.authCacheSeconds == 300)
        #expect(options.maxPending == 1000)
        #expect(options.registryRatePerSecond == 20)
        #expect(options.probeIntervalMs == 250)
        #expect(options.logDenials)
        #expect(options.sysIntervalSeconds == 10)
    }

    @Test func everyOption() throws {
        let options = try PluginOptions.parse([
            ("db", "/data/a.db"), ("registry", "OFF"), ("log_denials", "no"), ("auth_cache_seconds", "0"),
            ("registry_max_pending", "50"), ("registry_rate", "5"), ("reload_interval_ms", "1000"), ("sys_interval", "0"),
        ])
        var expected = PluginOptions(databasePath: "/data/a.db")
        expected.registryEnabled = false
        expected.logDenials = false
        expected.authCacheSeconds = 0
        expected.maxPending = 50
        expected.registryRatePerSecond = 5
        expected.probeIntervalMs = 1000
        expected.sysIntervalSeconds = 0
        #expect(options == expected)
    }

    @Test func databaseIsRequired() {
        let error = parseError([("registry", "on")])
        #expect(error == .missing("database"))
        #expect(error?.description == "plugin_opt_database is required (path of the cwauth database)")
        #expect(parseError([("database", "")]) == .missing("database"))
    }

    @Test(arguments: [
        ("registry", "maybe", "on or off"),
        ("log_denials", "", "on or off"),
        ("auth_cache_seconds", "-1", "a whole number from 0 to 86400"),
        ("auth_cache_seconds", "5m", "a whole number from 0 to 86400"),
        ("registry_rate", "0", "a whole number from 1 to 100"),
        ("registry_rate", "1000", "a whole number from 1 to 100"),
        ("hash_budget_ms", "1001", "a whole number from 0 to 1000"),
        ("reload_interval_ms", "10", "a whole number from 50 to 1000"),
        ("registry_max_pending", "1000001", "a whole number from 0 to 1000000"),
    ])
    func invalidValuesNameTheOptionAndWhatIsExpected(name: String, value: String, expected: String) {
        let error = parseError([("database", "/x.db"), (name, value)])
        #expect(error == .invalid(name: name, value: value, expected: expected))
        #expect(error?.description == "plugin_opt_\(name) \"\(value)\" is invalid: expected \(expected)")
    }

    @Test func unknownOptionIsAnError() {
        let error = parseError([("database", "/x.db"), ("cache", "10")])
        #expect(error == .unknown("cache"))
        #expect(error?.description == "unknown option plugin_opt_cache")
    }
}
