#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import AuthCore

// Large policies are rebuilt on a thread of their own: until the new snapshot is in, the old one
// keeps answering, and the kicks come out of the tick that swaps it in.
@Suite struct SnapshotBuildTests {
    static let second: UInt64 = 1_000_000_000

    /// Ticks (each past the probe interval) until `done`, waiting a little between them for the
    /// build thread; the number of ticks it took, or nil after 10 s.
    func tickUntil(_ core: BrokerCore, from start: inout UInt64, kicks: inout [String], _ done: () -> Bool) -> Int? {
        for round in 1...1000 {
            start += Self.second
            kicks += core.tick(now: start)
            if done() { return round }
            usleep(10_000)
        }
        return nil
    }

    @Test func backgroundBuildKeepsTheOldSnapshotServingUntilTheSwap() throws {
        let db = try TestDatabase(actor: "cli:admin")
        try db.store.addRole("writer")
        try db.store.grant("writer", Permission(resource: "factory/+/telemetry/#", operation: .write))
        try db.store.addUser(User(username: "sensor-1", passwordHash: TestHash.make("sensor-pass"), roles: ["writer"]))
        var options = PluginOptions(databasePath: db.path)
        options.backgroundBuildSize = 0  // every rebuild on the thread
        let core = try BrokerCore(options: options, log: { _, _ in })
        let cli = try db.connect(actor: "cli:admin")

        try cli.revoke("writer", resource: "factory/+/telemetry/#", context: .mqtt)
        try cli.setEnabled("sensor-1", false)
        var now: UInt64 = 0
        var kicks: [String] = []
        // The tick that sees the change only starts the build: the old snapshot still decides.
        now += Self.second
        #expect(core.tick(now: now).isEmpty)
        #expect(core.aclCheck(username: "sensor-1", clientId: "c", topic: "factory/l1/telemetry/t", access: .write))

        let ticks = tickUntil(core, from: &now, kicks: &kicks) {
            !core.aclCheck(username: "sensor-1", clientId: "c", topic: "factory/l1/telemetry/t", access: .write)
        }
        #expect(ticks != nil, "the background build never landed")
        #expect(kicks == ["sensor-1"])
        #expect(core.snapshot.user("sensor-1")?.enabled == false)

        // The next change goes the same way, and an unchanged store starts no build.
        try cli.addUser(User(username: "sensor-2", passwordHash: TestHash.make("sensor-pass"), roles: ["writer"]))
        #expect(tickUntil(core, from: &now, kicks: &kicks) { core.snapshot.user("sensor-2") != nil } != nil)
        let version = core.snapshot.version
        for _ in 0..<3 {
            now += Self.second
            #expect(core.tick(now: now).isEmpty)
        }
        #expect(core.snapshot.version == version)
    }

    /// Whom to kick is found on the build thread, against the snapshot serving when the build began;
    /// the swap uses it only if that snapshot is still the one serving.
    @Test func theBuildThreadFindsTheUserChanges() throws {
        let db = try TestDatabase(actor: "cli:admin")
        try db.store.addRole("writer")
        try db.store.addUser(User(username: "sensor-1", passwordHash: TestHash.make("sensor-pass"), roles: ["writer"]))
        try db.store.addUser(User(username: "sensor-2", passwordHash: TestHash.make("sensor-pass"), roles: ["writer"]))
        let serving = Snapshot(policy: try db.store.loadPolicy())
        try db.store.setEnabled("sensor-1", false)
        try db.store.unassign("sensor-2", role: "writer")
        let build = try SnapshotBuild(path: db.path, version: 1, previous: serving)
        build.join()
        let fresh = try build.finished!.get()
        let found = try #require(build.userChanges(from: serving))
        #expect(found == serving.userChanges(in: fresh))
        #expect(found.kick == ["sensor-1", "sensor-2"])
        #expect(build.userChanges(from: Snapshot(policy: try db.store.loadPolicy())) == nil)
    }
}
