import Testing
@testable import AuthCore

// A client id that begins with a username belongs to that user: no one else may connect with it,
// and `%c` grants topics only for a client id of the user's own.
@Suite struct ClientIdsTests {
    @Test(arguments: [
        ("alice", "alice", true), ("alice-phone", "alice", true), ("alice/2", "alice", true),
        ("alice_x", "alice", true), ("alice.x", "alice", true), ("alice:x", "alice", true), ("alice@x", "alice", true),
        ("alicex", "alice", false), ("alic", "alice", false), ("bob-alice", "alice", false), ("", "alice", false),
        ("Alice-1", "alice", false),
    ])
    func belongs(clientId: String, username: String, expected: Bool) {
        #expect(ClientIds.belongs(clientId, to: username) == expected)
    }

    @Test func theLongestUsernameOwnsAnId() {
        let users: Set<String> = ["alice", "alice-lab", "bob"]
        let owner = { (id: String) in ClientIds.owner(of: id, exists: { users.contains($0) }) }
        #expect(owner("alice") == "alice")
        #expect(owner("alice-1") == "alice")
        #expect(owner("alice-lab") == "alice-lab")
        #expect(owner("alice-lab-3") == "alice-lab")
        #expect(owner("alice-labs") == "alice")
        #expect(owner("bobby") == nil)
        #expect(owner("mosq-1234") == nil)
        #expect(owner("") == nil)
        #expect(owner(String(repeating: "-", count: 70_000)) == nil)
    }

    @Test func percentCStandsOnlyForTheUsersOwnClientId() {
        let snapshot = Snapshot(policy: Policy(
            users: [User(username: "alice", passwordHash: "", roles: ["dev"]), User(username: "bob", passwordHash: "", roles: ["dev"])],
            roles: [Role(name: "dev", permissions: [Permission(resource: "devices/%c/#", operation: .readWrite)])],
            registry: RegistryWindow(openUntil: 0)))
        func allows(_ user: String, _ client: String, _ topic: String) -> Bool {
            let byName = snapshot.decide(username: user, clientId: client, topic: topic, access: Access.write).isAllowed
            var (u, c, t) = (user, client, topic)
            let byBytes = u.withUTF8 { u in c.withUTF8 { c in t.withUTF8 { t in
                snapshot.brokerAllows(username: u, clientId: c, topic: t, access: Access.write) } } }
            #expect(byName == byBytes, "\(user) \(client) \(topic)")
            return byBytes
        }
        #expect(allows("alice", "alice-phone", "devices/alice-phone/state"))
        #expect(allows("alice", "alice", "devices/alice/state"))
        #expect(!allows("bob", "alice-phone", "devices/alice-phone/state"))
        #expect(!allows("alice", "sensor-17", "devices/sensor-17/state"))
        #expect(snapshot.decideSubscribe(username: "alice", clientId: "alice-1", filter: "devices/alice-1/#").isAllowed)
        #expect(!snapshot.decideSubscribe(username: "alice", clientId: "dev-1", filter: "devices/dev-1/#").isAllowed)
    }
}
