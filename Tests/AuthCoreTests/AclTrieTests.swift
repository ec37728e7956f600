import Testing
@testable import AuthCore

// The compiled trie (Snapshot.brokerAllows / brokerAllowsSubscribe) must give exactly the answers of
// the reference matcher (Snapshot.decide / decideSubscribe): randomized over small alphabets where
// wildcards, empty levels, '$' topics and %u / %c collide often, plus targeted cases.

/// SplitMix64: a fixed seed gives the same cases on every machine and every run.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func permission(_ resource: String, _ operation: Operation, _ context: PermissionContext = .mqtt) -> Permission {
    Permission(resource: resource, operation: operation, context: context)
}

private func user(_ name: String, roles: [String], enabled: Bool = true, prefix: String? = nil) -> User {
    User(username: name, passwordHash: "", enabled: enabled, roles: roles, publishPrefix: prefix)
}

/// `prefetch`: take the path that large policies take (`CompiledAcl.prefetchThreshold`: tables two
/// thirds full, slots prefetched) on this small one. `determinize: false`: walk every role's plain
/// trie, which otherwise only roles with %u / %c keep.
private func snapshot(roles: [Role], users: [User], prefetch: Bool = false, determinize: Bool = true) -> Snapshot {
    Snapshot(policy: Policy(users: users, roles: roles, registry: RegistryWindow(openUntil: 0)), version: 0,
             prefetchAbove: prefetch ? 0 : CompiledAcl.prefetchThreshold, determinize: determinize)
}

/// Random policies, users, topics and filters over a few levels that collide a lot.
private struct Fuzz {
    var rng: SeededGenerator
    /// Permissions with %u / %c: a role that has one keeps its plain trie.
    var substitutions = true

    /// Short and word-long levels, with bytes below '/' that are no separator ('-', '.', ' ') and
    /// UTF-8 beyond ASCII: the hot path reads topics a word at a time, and takes levels of up to
    /// 16 bytes from two words (so 8, 9, 16 and 17 bytes are edges).
    static let levels = ["a", "b", "", "$x", "machine-10", "temperature.avg", "ä b",
                         "machine1", "machine10", "temperaturesens1", "temperaturesensor"]
    /// Topic levels also include values that usernames / client ids take, and near misses.
    static let topicLevels = ["a", "b", "", "$x", "w", "c", "%u", "$SYS", "machine-10", "machine-11",
                              "temperature.avg", "temperature.av", "ä b", "ä",
                              "machine1", "machine2", "machine10", "machine11", "temperaturesens1",
                              "temperaturesens2", "temperaturesensor", "temperaturesensoR"]
    /// Short names, and long ones that share their first 8 bytes (only the tail tells them apart).
    /// Names of 1–3, 4–7 and 8 bytes are read differently (`ByteHash.head`).
    static let usernames = ["a", "w", "$x", "u/v", "+", "%u", "b", "c", "12345678", "123456789", "device-0001-east", "device-0001-west",
                            "dev1", "dev2", "device1", "device2"]
    static let clientIds = ["a", "c", "", "x/y", "#", "$x", "w", "b"]
    static let prefixes: [String?] = [nil, nil, nil, "a/", "$x/", "a", "", "b/a/", "w/", "/"]

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    /// A permission resource: literals, '+', '%u', '%c', a trailing '#'; now and then an invalid one.
    mutating func resource() -> String {
        if chance(3) { return pick(["a/#/b", "a+", "#a", "", "a/b#"]) }
        let count = Int.random(in: 1...4, using: &rng)
        var parts: [String] = []
        for i in 0..<count {
            if i == count - 1 && chance(20) { parts.append("#"); break }
            let r = Int.random(in: 0..<100, using: &rng)
            parts.append(r < 55 || (r >= 75 && !substitutions) ? pick(Self.levels) : r < 75 ? "+" : r < 88 ? "%u" : "%c")
        }
        return parts.joined(separator: "/")
    }

    mutating func topic() -> String {
        if chance(3) { return pick(["", "a/+", "#", "a/#", "a\u{0}b", "+"]) }
        let count = Int.random(in: 1...4, using: &rng)
        return (0..<count).map { _ in pick(Self.topicLevels) }.joined(separator: "/")
    }

    /// A SUBSCRIBE filter (%u is plain text there); sometimes shared, sometimes invalid.
    mutating func filter() -> String {
        if chance(3) { return pick(["", "a/#/b", "a+", "#/", "$share/g", "$share/g/", "a\u{0}"]) }
        let count = Int.random(in: 1...4, using: &rng)
        var parts: [String] = []
        for i in 0..<count {
            if i == count - 1 && chance(20) { parts.append("#"); break }
            parts.append(chance(25) ? "+" : pick(Self.topicLevels))
        }
        let text = parts.joined(separator: "/")
        return chance(10) ? "$share/" + pick(["g", "", "a"]) + "/" + text : text
    }

    mutating func policy() -> (roles: [Role], users: [User]) {
        let roleCount = Int.random(in: 1...6, using: &rng)
        var roles: [Role] = []
        for r in 0..<roleCount {
            let permissions = (0..<Int.random(in: 0...6, using: &rng)).map { _ in
                permission(resource(), pick([.read, .write, .readWrite]), chance(5) ? .http : .mqtt)
            }
            roles.append(Role(name: "role\(r)", permissions: permissions))
        }
        var users: [User] = []
        for name in Self.usernames where chance(80) {
            // Up to 5 roles: the first three are kept apart from the rest (UserTable.swift).
            let roleNames = (0..<Int.random(in: 0...5, using: &rng)).map { _ in chance(5) ? "missing" : "role\(Int.random(in: 0..<roleCount, using: &rng))" }
            users.append(user(name, roles: Array(Set(roleNames)), enabled: !chance(15), prefix: pick(Self.prefixes)))
        }
        return (roles, users)
    }
}

@Suite struct AclTrieTests {

    // MARK: - randomized: trie == reference

    @Test func trieAgreesWithReferenceOnRandomPolicies() {
        var fuzz = Fuzz(rng: SeededGenerator(state: 20_251_122))
        var cases = 0
        var allowed = (read: 0, write: 0, subscribe: 0)
        var mismatches: [String] = []
        var roleSetTries = 0
        for round in 0..<600 {
            // Both layouts, both trie forms, and roles with and without %u / %c.
            fuzz.substitutions = round % 3 != 0
            let determinize = round % 5 != 4
            let (roles, users) = fuzz.policy()
            let snap = snapshot(roles: roles, users: users, prefetch: round % 2 == 1, determinize: determinize)
            #expect(snap.compiled.prefetchTries == (round % 2 == 1))
            #expect(snap.compiled.load == (round % 2 == 1 ? CompiledAcl.denseLoad : CompiledAcl.roomyLoad))
            // Tries that need prefetching are never made deterministic (CompiledAcl.swift).
            if !determinize || !fuzz.substitutions || round % 2 == 1 {
                #expect(snap.compiled.deterministicRoles == (determinize && round % 2 == 0 ? roles.count : 0))
            }
            roleSetTries += snap.compiled.roleSetTries
            let prefixes = Dictionary(users.map { ($0.username, $0.publishPrefix) }, uniquingKeysWith: { $1 })
            for _ in 0..<60 {
                let name = fuzz.pick(Fuzz.usernames)
                let client = fuzz.pick(Fuzz.clientIds)

                let topic = fuzz.topic()
                let read = snap.decide(username: name, clientId: client, topic: topic, access: .read).isAllowed
                let prefixed = ((prefixes[name] ?? nil) ?? "") + topic
                let write = snap.decide(username: name, clientId: client, topic: prefixed, access: .write).isAllowed
                let gotRead = snap.brokerAllows(username: name, clientId: client, topic: topic, access: .read)
                let gotWrite = snap.brokerAllows(username: name, clientId: client, topic: topic, access: .write)

                let filter = fuzz.filter()
                let subscribe = snap.decideSubscribe(username: name, clientId: client,
                                                     filter: BrokerSemantics.subscribedFilter(filter)).isAllowed
                let gotSubscribe = snap.brokerAllowsSubscribe(username: name, clientId: client, filter: filter)

                cases += 3
                if read { allowed.read += 1 }
                if write { allowed.write += 1 }
                if subscribe { allowed.subscribe += 1 }
                for (what, want, got) in [("read \(topic)", read, gotRead), ("write \(prefixed)", write, gotWrite),
                                          ("subscribe \(filter)", subscribe, gotSubscribe)] where want != got {
                    if mismatches.count < 20 {
                        mismatches.append("\(what) user \(name) client \(String(reflecting: client)): reference \(want), trie \(got); roles \(roles.map { "\($0.name)=\($0.permissions.map { "\($0.resource):\($0.operation):\($0.context)" })" }) users \(users.map { "\($0.username):\($0.roles):\($0.enabled):\(String(describing: $0.publishPrefix))" })")
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        #expect(cases >= 100_000)
        // The generator must produce both answers in quantity, or agreement proves little.
        #expect(allowed.read > 1_000 && allowed.write > 1_000 && allowed.subscribe > 1_000,
                "allowed: \(allowed)")
        // Users holding several roles walked their set's trie in many rounds.
        #expect(roleSetTries > 100, "role set tries: \(roleSetTries)")
    }

    /// Larger random roles (deeper tries, many siblings per node) with fewer checks each.
    @Test func trieAgreesWithReferenceOnLargerRoles() {
        var fuzz = Fuzz(rng: SeededGenerator(state: 7))
        var mismatches = 0
        var cases = 0
        var deterministic = 0
        for round in 0..<30 {
            fuzz.substitutions = round % 2 == 0
            var roles: [Role] = []
            for r in 0..<4 {
                roles.append(Role(name: "role\(r)", permissions: (0..<200).map { _ in
                    permission(fuzz.resource(), fuzz.pick([.read, .write, .readWrite]))
                }))
            }
            let users = Fuzz.usernames.map { user($0, roles: ["role\(Int.random(in: 0..<4, using: &fuzz.rng))"], prefix: fuzz.pick(Fuzz.prefixes)) }
            let snap = snapshot(roles: roles, users: users)
            deterministic += snap.compiled.deterministicRoles
            for _ in 0..<500 {
                let u = users[Int.random(in: 0..<users.count, using: &fuzz.rng)]
                let client = fuzz.pick(Fuzz.clientIds)
                let topic = fuzz.topic()
                let filter = fuzz.filter()
                cases += 3
                if snap.brokerAllows(username: u.username, clientId: client, topic: topic, access: .read)
                    != snap.decide(username: u.username, clientId: client, topic: topic, access: .read).isAllowed { mismatches += 1 }
                if snap.brokerAllows(username: u.username, clientId: client, topic: topic, access: .write)
                    != snap.decide(username: u.username, clientId: client, topic: (u.publishPrefix ?? "") + topic, access: .write).isAllowed { mismatches += 1 }
                if snap.brokerAllowsSubscribe(username: u.username, clientId: client, filter: filter)
                    != snap.decideSubscribe(username: u.username, clientId: client, filter: BrokerSemantics.subscribedFilter(filter)).isAllowed { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        #expect(cases == 45_000)
        // Both trie forms are compared: roles without %u / %c are deterministic unless that would
        // grow them more than `deterministicGrowth` (which 200 random filters over a dozen levels
        // often would).
        #expect(deterministic >= 10 && deterministic < 60, "deterministic roles: \(deterministic) of 120")
    }

    /// Every one-permission policy up to three levels over a tiny alphabet, against every topic and
    /// subscription filter up to three levels: the corners ('$' first levels, empty levels, '+/#' vs
    /// '#', %u / %c equal to a level or not) are all reached, not just likely.
    @Test func trieAgreesWithReferenceExhaustivelyOnSmallFilters() {
        func all(_ alphabet: [String], upTo levels: Int) -> [String] {
            var result: [[String]] = alphabet.map { [$0] }
            var last = result
            for _ in 1..<levels {
                last = last.flatMap { prefix in alphabet.map { prefix + [$0] } }
                result += last
            }
            return result.map { $0.joined(separator: "/") }
        }
        let resources = all(["", "a", "$x", "+", "#", "%u", "%c"], upTo: 3)
        let topics = all(["", "a", "$x", "b"], upTo: 3)
        let filters = all(["", "a", "$x", "+", "#", "%u"], upTo: 3)
        let clients = [("a", "$x"), ("b", ""), ("$x", "a")]
        var cases = 0
        var mismatches: [String] = []
        for resource in resources {
            for (operation, determinize) in [(Operation.read, true), (.write, true), (.read, false), (.write, false)] {
                let snap = snapshot(roles: [Role(name: "r", permissions: [permission(resource, operation)])],
                                    users: clients.map { user($0.0, roles: ["r"]) }, determinize: determinize)
                for (name, client) in clients {
                    for topic in topics {
                        for access in [Access.read, .write] {
                            cases += 1
                            let want = snap.decide(username: name, clientId: client, topic: topic, access: access).isAllowed
                            if snap.brokerAllows(username: name, clientId: client, topic: topic, access: access) != want {
                                mismatches.append("\(resource) \(operation) \(access) \(topic) as \(name)/\(client): reference \(want)")
                            }
                        }
                    }
                    for filter in filters {
                        cases += 1
                        let want = snap.decideSubscribe(username: name, clientId: client, filter: filter).isAllowed
                        if snap.brokerAllowsSubscribe(username: name, clientId: client, filter: filter) != want {
                            mismatches.append("\(resource) \(operation) subscribe \(filter) as \(name)/\(client): reference \(want)")
                        }
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20).joined(separator: "\n"))")
        #expect(cases > 200_000)
    }

    // MARK: - targeted

    private let plant = snapshot(
        roles: [
            Role(name: "sensor", permissions: [
                permission("factory/+/telemetry/#", .write),
                permission("factory/%u/cmd", .read),
                permission("devices/%c/state", .readWrite),
            ]),
            Role(name: "viewer", permissions: [permission("factory/#", .read)]),
            Role(name: "admin", permissions: [permission("#", .readWrite)]),
            Role(name: "sys", permissions: [permission("$SYS/#", .read)]),
            Role(name: "grid", permissions: [permission("a/#", .read), permission("+/+", .read), permission("x/b", .read)]),
            Role(name: "any", permissions: [permission("+/#", .read)]),
            Role(name: "http", permissions: [permission("factory/#", .readWrite, .http)]),
        ],
        users: [
            user("m1", roles: ["sensor"]),
            user("view", roles: ["viewer"]),
            user("root", roles: ["admin"]),
            user("ops", roles: ["admin", "sys"]),
            user("grid", roles: ["grid"]),
            user("any", roles: ["any"]),
            user("web", roles: ["http"]),
            user("new-device", roles: []),
            user("gone", roles: ["admin"], enabled: false),
            user("site", roles: ["sensor"], prefix: "site1/"),
            user("glued", roles: ["grid"], prefix: "a"),
        ])

    @Test func publishAndDelivery() {
        let s = plant
        #expect(s.brokerAllows(username: "m1", clientId: "c", topic: "factory/m1/telemetry/temp", access: .write))
        #expect(s.brokerAllows(username: "m1", clientId: "c", topic: "factory/x/telemetry", access: .write))  // '#' matches the parent
        #expect(!s.brokerAllows(username: "m1", clientId: "c", topic: "factory/x/telemetry/temp", access: .read))
        #expect(!s.brokerAllows(username: "m1", clientId: "c", topic: "factory/telemetry", access: .write))
        #expect(s.brokerAllows(username: "view", clientId: "c", topic: "factory", access: .read))
        #expect(!s.brokerAllows(username: "view", clientId: "c", topic: "factory", access: .write))
        #expect(!s.brokerAllows(username: "view", clientId: "c", topic: "factoryx/a", access: .read))
        #expect(s.brokerAllows(username: "grid", clientId: "c", topic: "/", access: .read))  // '+' matches empty levels
        #expect(s.brokerAllows(username: "root", clientId: "c", topic: "/", access: .write))
    }

    @Test func dollarTopicsNeedAnExplicitFirstLevel() {
        let s = plant
        #expect(!s.brokerAllows(username: "root", clientId: "c", topic: "$SYS/broker/load", access: .read))
        #expect(!s.brokerAllows(username: "any", clientId: "c", topic: "$SYS/broker", access: .read))
        #expect(s.brokerAllows(username: "ops", clientId: "c", topic: "$SYS/broker/load", access: .read))
        #expect(s.brokerAllows(username: "ops", clientId: "c", topic: "$SYS", access: .read))
        #expect(!s.brokerAllows(username: "ops", clientId: "c", topic: "$SYS/x", access: .write))
        #expect(s.brokerAllows(username: "root", clientId: "c", topic: "a/$SYS", access: .read))
        #expect(!s.brokerAllowsSubscribe(username: "root", clientId: "c", filter: "$SYS/#"))
        #expect(s.brokerAllowsSubscribe(username: "ops", clientId: "c", filter: "$SYS/#"))
        #expect(s.brokerAllowsSubscribe(username: "root", clientId: "c", filter: "#"))
    }

    @Test func substitutions() {
        let s = plant
        #expect(s.brokerAllows(username: "m1", clientId: "c", topic: "factory/m1/cmd", access: .read))
        #expect(!s.brokerAllows(username: "m1", clientId: "c", topic: "factory/m2/cmd", access: .read))
        #expect(!s.brokerAllows(username: "m1", clientId: "c", topic: "factory/%u/cmd", access: .read))
        #expect(s.brokerAllows(username: "m1", clientId: "m1-7", topic: "devices/m1-7/state", access: .write))
        #expect(!s.brokerAllows(username: "m1", clientId: "m1-8", topic: "devices/m1-7/state", access: .write))
        // %c stands only for a client id of the user's own (one that begins with "m1" + separator).
        #expect(!s.brokerAllows(username: "m1", clientId: "dev-7", topic: "devices/dev-7/state", access: .write))
        #expect(!s.brokerAllows(username: "view", clientId: "m1-7", topic: "devices/m1-7/state", access: .write))
        // A client id that is not exactly one level never matches %c.
        #expect(!s.brokerAllows(username: "m1", clientId: "", topic: "devices//state", access: .write))
        #expect(!s.brokerAllows(username: "m1", clientId: "a/b", topic: "devices/a/b/state", access: .write))
        #expect(!s.brokerAllows(username: "m1", clientId: "+", topic: "devices/+/state", access: .write))
        #expect(s.brokerAllowsSubscribe(username: "m1", clientId: "c", filter: "factory/m1/cmd"))
        #expect(!s.brokerAllowsSubscribe(username: "m1", clientId: "c", filter: "factory/+/cmd"))
        #expect(!s.brokerAllowsSubscribe(username: "m1", clientId: "c", filter: "factory/%u/cmd"))
    }

    @Test func subscriptionCoverage() {
        let s = plant
        // SPEC: a/+ is covered by a/# and by +/+, not by a/b.
        #expect(s.brokerAllowsSubscribe(username: "grid", clientId: "c", filter: "a/+"))
        #expect(s.brokerAllowsSubscribe(username: "grid", clientId: "c", filter: "x/+"))  // by +/+
        #expect(!s.brokerAllowsSubscribe(username: "grid", clientId: "c", filter: "x/#"))
        #expect(!s.brokerAllowsSubscribe(username: "grid", clientId: "c", filter: "+/#"))
        #expect(s.brokerAllowsSubscribe(username: "grid", clientId: "c", filter: "a/#"))
        #expect(s.brokerAllowsSubscribe(username: "grid", clientId: "c", filter: "a"))  // a/# matches its parent
        // '+/#' covers '#': every topic has at least one level.
        #expect(s.brokerAllowsSubscribe(username: "any", clientId: "c", filter: "#"))
        #expect(s.brokerAllowsSubscribe(username: "any", clientId: "c", filter: "/#"))
        #expect(s.brokerAllowsSubscribe(username: "any", clientId: "c", filter: "+"))
        // ... and '/+/#' covers '/#' (its parent "" is no topic name either), 'a/+/#' does not cover 'a/#'.
        let nested = snapshot(roles: [Role(name: "r", permissions: [permission("/+/#", .read), permission("a/+/#", .read)])],
                              users: [user("u1", roles: ["r"])])
        #expect(nested.brokerAllowsSubscribe(username: "u1", clientId: "c", filter: "/#"))
        #expect(nested.brokerAllowsSubscribe(username: "u1", clientId: "c", filter: "//#"))
        #expect(!nested.brokerAllowsSubscribe(username: "u1", clientId: "c", filter: "a/#"))
        #expect(nested.brokerAllowsSubscribe(username: "u1", clientId: "c", filter: "a/b/#"))
        #expect(!s.brokerAllowsSubscribe(username: "any", clientId: "c", filter: "$x/#"))
        #expect(s.brokerAllowsSubscribe(username: "view", clientId: "c", filter: "$share/g/factory/+/telemetry"))
        #expect(!s.brokerAllowsSubscribe(username: "view", clientId: "c", filter: "$share/g/other"))
        #expect(!s.brokerAllowsSubscribe(username: "view", clientId: "c", filter: "$share/factory"))
        // Invalid filters never pass, whatever the permission.
        for bad in ["", "a/#/b", "a+", "#/", "factory/#x", "factory/\u{0}"] {
            #expect(!s.brokerAllowsSubscribe(username: "root", clientId: "c", filter: bad), "\(String(reflecting: bad))")
        }
    }

    @Test func publishPrefixIsPartOfTheCheckedTopic() {
        let s = plant
        // site: prefix "site1/", permission factory/+/telemetry/# is written against the final topic.
        #expect(!s.brokerAllows(username: "site", clientId: "c", topic: "factory/x/telemetry", access: .write))
        #expect(!s.brokerAllows(username: "site", clientId: "c", topic: "site1/factory/x/telemetry", access: .write))
        #expect(s.brokerAllows(username: "m1", clientId: "c", topic: "factory/x/telemetry", access: .write))
        // glued: prefix "a" without a slash; "a" + "/b" = "a/b" (allowed by a/# for read only: grid has no write)
        #expect(!s.brokerAllows(username: "glued", clientId: "c", topic: "/b", access: .write))
        // Reading is never prefixed.
        #expect(s.brokerAllows(username: "glued", clientId: "c", topic: "a/b", access: .read))
        let writer = snapshot(roles: [Role(name: "w", permissions: [permission("ab/+", .write), permission("site1/factory/#", .write),
                                                                    permission("%u/x", .write)])],
                              users: [user("glued", roles: ["w"], prefix: "a"), user("site", roles: ["w"], prefix: "site1/"),
                                      user("own", roles: ["w"], prefix: "o")])
        #expect(writer.brokerAllows(username: "glued", clientId: "c", topic: "b/c", access: .write))     // ab/c
        #expect(!writer.brokerAllows(username: "glued", clientId: "c", topic: "/b/c", access: .write))   // a/b/c
        #expect(!writer.brokerAllows(username: "glued", clientId: "c", topic: "ab/c", access: .write))   // aab/c
        #expect(writer.brokerAllows(username: "site", clientId: "c", topic: "factory/a/b", access: .write))
        #expect(!writer.brokerAllows(username: "site", clientId: "c", topic: "site1/factory/a", access: .write))
        // The level glued from prefix and topic can be the username too: "o" + "wn/x" = "own/x".
        #expect(writer.brokerAllows(username: "own", clientId: "c", topic: "wn/x", access: .write))
        #expect(!writer.brokerAllows(username: "own", clientId: "c", topic: "own/x", access: .write))
        // The prefix alone is no valid topic of its own, but prefix + topic is what counts.
        #expect(!writer.brokerAllows(username: "glued", clientId: "c", topic: "", access: .write))
    }

    @Test func usersWhoMayDoNothing() {
        let s = plant
        #expect(!s.brokerAllows(username: "nobody", clientId: "c", topic: "factory", access: .read))
        #expect(!s.brokerAllows(username: "gone", clientId: "c", topic: "factory", access: .read))
        #expect(!s.brokerAllows(username: "new-device", clientId: "c", topic: "factory", access: .read))
        #expect(!s.brokerAllows(username: "web", clientId: "c", topic: "factory/x", access: .read))  // http context only
        #expect(!s.brokerAllows(username: "", clientId: "c", topic: "factory", access: .read))
        #expect(!s.brokerAllowsSubscribe(username: "gone", clientId: "c", filter: "#"))
        #expect(!s.brokerAllowsSubscribe(username: "new-device", clientId: "c", filter: "a"))
    }

    @Test func invalidTopicsAreDenied() {
        let s = plant
        // Long ones too: a user who may use every topic ('#') has them checked a word at a time.
        for bad in ["", "a/+", "a/#", "+", "#", "a\u{0}b", "machine-10/temperature+avg", "factory/line-1/cell#",
                    "factory/\u{0}/x/yyyyyy", "abcdefg+", "+bcdefgh", "abcdefgh#", "abcdefghijklmnop/+/q"] {
            #expect(!s.brokerAllows(username: "root", clientId: "c", topic: bad, access: .read), "\(String(reflecting: bad))")
            #expect(!s.brokerAllows(username: "root", clientId: "c", topic: bad, access: .write), "\(String(reflecting: bad))")
        }
        for good in ["abcdefgh", "machine-10/temperature.avg", "a/b/c/d/e/f/g/h/i", "ä/b c/-.,"] {
            #expect(s.brokerAllows(username: "root", clientId: "c", topic: good, access: .write), "\(good)")
        }
        let long = String(repeating: "a", count: 65_536)
        #expect(!s.brokerAllows(username: "root", clientId: "c", topic: long, access: .read))
        #expect(s.brokerAllows(username: "root", clientId: "c", topic: String(long.dropFirst()), access: .read))
    }

    /// A policy with more distinct topic levels than an edge tag can name is not compiled; the broker
    /// path then answers with the reference matcher, and still gives its answers (limit lowered to 2).
    @Test func policyTooLargeToCompileIsCheckedByTheReferenceMatcher() {
        var fuzz = Fuzz(rng: SeededGenerator(state: 99))
        var cases = 0
        var allowed = 0
        var uncompiled = 0
        var mismatches: [String] = []
        for _ in 0..<200 {
            let (roles, users) = fuzz.policy()
            let snap = Snapshot(policy: Policy(users: users, roles: roles, registry: RegistryWindow(openUntil: 0)),
                                version: 0, prefetchAbove: CompiledAcl.prefetchThreshold, levelLimit: 2)
            let literals = Set(roles.flatMap { $0.permissions.filter { $0.context == .mqtt }.compactMap { try? TopicFilter(validating: $0.resource) } }
                .flatMap { $0.levels.compactMap { if case .literal(let text) = $0 { text } else { nil } } })
            #expect(snap.isCompiled == (literals.count <= 2), "literals \(literals)")
            if !snap.isCompiled { uncompiled += 1 }
            let prefixes = Dictionary(users.map { ($0.username, $0.publishPrefix) }, uniquingKeysWith: { $1 })
            for _ in 0..<40 {
                let name = fuzz.pick(Fuzz.usernames)
                let client = fuzz.pick(Fuzz.clientIds)
                let topic = fuzz.topic()
                let filter = fuzz.filter()
                let prefixed = ((prefixes[name] ?? nil) ?? "") + topic
                let checks = [
                    ("read \(topic)", snap.decide(username: name, clientId: client, topic: topic, access: .read).isAllowed,
                     snap.brokerAllows(username: name, clientId: client, topic: topic, access: .read)),
                    ("write \(prefixed)", snap.decide(username: name, clientId: client, topic: prefixed, access: .write).isAllowed,
                     snap.brokerAllows(username: name, clientId: client, topic: topic, access: .write)),
                    ("subscribe \(filter)", snap.decideSubscribe(username: name, clientId: client,
                                                                 filter: BrokerSemantics.subscribedFilter(filter)).isAllowed,
                     snap.brokerAllowsSubscribe(username: name, clientId: client, filter: filter)),
                ]
                for (what, want, got) in checks {
                    cases += 1
                    if want { allowed += 1 }
                    if want != got && mismatches.count < 10 { mismatches.append("\(what) user \(name): reference \(want), broker \(got)") }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        #expect(uncompiled > 100 && allowed > 1_000, "uncompiled \(uncompiled), allowed \(allowed) of \(cases)")
    }

    /// Every role of a user counts, the fourth and later ones too (kept outside the user's slot), and
    /// names that share their first 8 bytes and length are told apart by the rest.
    @Test func manyRolesAndLongNames() {
        let roles = (0..<6).map { Role(name: "r\($0)", permissions: [permission("line/\($0)/#", .read)]) }
        let s = snapshot(roles: roles, users: [
            user("device-0001-east", roles: roles.map(\.name)),
            user("device-0001-west", roles: ["r0"]),
            user("12345678", roles: ["r5"]),
        ])
        for r in 0..<6 {
            #expect(s.brokerAllows(username: "device-0001-east", clientId: "c", topic: "line/\(r)/x", access: .read), "role r\(r)")
            #expect(s.brokerAllowsSubscribe(username: "device-0001-east", clientId: "c", filter: "line/\(r)/#"), "role r\(r)")
        }
        #expect(!s.brokerAllows(username: "device-0001-east", clientId: "c", topic: "line/6/x", access: .read))
        #expect(s.brokerAllows(username: "device-0001-west", clientId: "c", topic: "line/0/x", access: .read))
        #expect(!s.brokerAllows(username: "device-0001-west", clientId: "c", topic: "line/5/x", access: .read))
        #expect(!s.brokerAllows(username: "device-0001-nort", clientId: "c", topic: "line/0/x", access: .read))
        #expect(s.brokerAllows(username: "12345678", clientId: "c", topic: "line/5/x", access: .read))
        #expect(!s.brokerAllows(username: "123456789", clientId: "c", topic: "line/5/x", access: .read))
        #expect(!s.brokerAllows(username: "1234567", clientId: "c", topic: "line/5/x", access: .read))
    }

    /// Levels compare as bytes: "é" (U+00E9) and "e\u{301}" are different topics.
    @Test func levelsCompareAsBytes() {
        let s = snapshot(roles: [Role(name: "r", permissions: [permission("caf\u{E9}/x", .read)])],
                         users: [user("u1", roles: ["r"])])
        #expect(s.brokerAllows(username: "u1", clientId: "c", topic: "caf\u{E9}/x", access: .read))
        #expect(!s.brokerAllows(username: "u1", clientId: "c", topic: "cafe\u{301}/x", access: .read))
    }

    @Test func deepTopicsAndLongLevels() {
        let deep = (0..<40).map { "l\($0)" }.joined(separator: "/")
        let longLevel = String(repeating: "x", count: 300)
        let s = snapshot(roles: [Role(name: "r", permissions: [
            permission(deep, .read), permission("a/\(longLevel)/+", .read), permission("b/#", .write)])],
                         users: [user("u1", roles: ["r"], prefix: String(repeating: "p", count: 20))])
        #expect(s.brokerAllows(username: "u1", clientId: "c", topic: deep, access: .read))
        #expect(!s.brokerAllows(username: "u1", clientId: "c", topic: deep + "/x", access: .read))
        #expect(s.brokerAllows(username: "u1", clientId: "c", topic: "a/\(longLevel)/z", access: .read))
        #expect(!s.brokerAllows(username: "u1", clientId: "c", topic: "a/\(longLevel)x/z", access: .read))
        // Many more levels than any permission has.
        let many = "q/" + String(repeating: "z/", count: 5_000) + "z"
        #expect(!s.brokerAllows(username: "u1", clientId: "c", topic: many, access: .read))
        let ownPrefix = snapshot(roles: [Role(name: "r", permissions: [permission("\(String(repeating: "p", count: 20))b/#", .write)])],
                                 users: [user("u1", roles: ["r"], prefix: String(repeating: "p", count: 20))])
        #expect(ownPrefix.brokerAllows(username: "u1", clientId: "c", topic: "b/" + String(repeating: "z/", count: 5_000) + "z", access: .write))
    }

    /// A role whose deterministic trie would explode (here 2¹² nodes for 12 filters: each level
    /// may or may not have been the one literal) keeps its plain trie, and is still right; an
    /// ordinary role beside it is made deterministic.
    @Test func roleThatWouldGrowTooMuchKeepsItsPlainTrie() {
        let depth = 12
        let filters = (0..<depth).map { i in (0..<depth).map { $0 == i ? "a" : "+" }.joined(separator: "/") + "/end" }
        let s = snapshot(roles: [Role(name: "wide", permissions: filters.map { permission($0, .read) }),
                                 Role(name: "plain", permissions: [permission("x/+/y", .read), permission("x/#", .write)])],
                         users: [user("u", roles: ["wide", "plain"])])
        #expect(s.compiled.deterministicRoles == 1)
        let levels = (0..<depth).map { $0 == 7 ? "a" : "b" }
        #expect(s.brokerAllows(username: "u", clientId: "c", topic: levels.joined(separator: "/") + "/end", access: .read))
        #expect(!s.brokerAllows(username: "u", clientId: "c", topic: Array(repeating: "b", count: depth).joined(separator: "/") + "/end", access: .read))
        #expect(s.brokerAllows(username: "u", clientId: "c", topic: "x/q/y", access: .read))
        #expect(s.brokerAllows(username: "u", clientId: "c", topic: "x/q/y", access: .write))
        #expect(!s.brokerAllows(username: "u", clientId: "c", topic: "y/q/y", access: .write))
    }

    /// Users who hold the same roles share one trie of them all, in whatever order they list them;
    /// it allows what any of the roles allows, for publish, delivery and subscription alike.
    @Test func usersWithSeveralRolesWalkOneTrieOfTheirSet() {
        let roles = [Role(name: "reader", permissions: [permission("plant/+/temp", .read), permission("plant/l1/#", .read)]),
                     Role(name: "writer", permissions: [permission("plant/l2/cmd", .write), permission("plant/+/temp", .write)]),
                     Role(name: "audit", permissions: [permission("audit/#", .readWrite)])]
        let users = [user("both", roles: ["reader", "writer"]), user("both2", roles: ["writer", "reader"]),
                     user("all", roles: ["audit", "writer", "reader"]), user("one", roles: ["reader"])]
        for prefetch in [false, true] {
            let s = snapshot(roles: roles, users: users, prefetch: prefetch)
            // {reader, writer} and {audit, reader, writer}; "one" walks its role's trie. Tries laid
            // out for prefetching are never deterministic, and role sets only ever are.
            #expect(s.compiled.roleSetTries == (prefetch ? 0 : 2))
            for name in ["both", "both2", "all"] {
                #expect(s.brokerAllows(username: name, clientId: "c", topic: "plant/l3/temp", access: .read))
                #expect(s.brokerAllows(username: name, clientId: "c", topic: "plant/l3/temp", access: .write))
                #expect(s.brokerAllows(username: name, clientId: "c", topic: "plant/l1/x/y", access: .read))
                #expect(!s.brokerAllows(username: name, clientId: "c", topic: "plant/l1/x/y", access: .write))
                #expect(s.brokerAllows(username: name, clientId: "c", topic: "plant/l2/cmd", access: .write))
                #expect(!s.brokerAllows(username: name, clientId: "c", topic: "plant/l2/cmd", access: .read))
                #expect(s.brokerAllowsSubscribe(username: name, clientId: "c", filter: "plant/+/temp"))
                #expect(s.brokerAllowsSubscribe(username: name, clientId: "c", filter: "plant/l1/+/#"))
                // One permission must cover the whole filter: no role has "plant/#".
                #expect(!s.brokerAllowsSubscribe(username: name, clientId: "c", filter: "plant/#"))
                #expect(s.brokerAllows(username: name, clientId: "c", topic: "audit/x", access: .read) == (name == "all"))
            }
            #expect(!s.brokerAllows(username: "one", clientId: "c", topic: "plant/l3/temp", access: .write))
            #expect(s.brokerAllows(username: "one", clientId: "c", topic: "plant/l3/temp", access: .read))
        }
        // A set with a role whose trie stays plain (%u) keeps walking its roles one by one.
        let substituting = roles + [Role(name: "own", permissions: [permission("devices/%u/#", .readWrite)])]
        let s = snapshot(roles: substituting, users: [user("dev1", roles: ["own", "reader"])])
        #expect(s.compiled.roleSetTries == 0)
        #expect(s.brokerAllows(username: "dev1", clientId: "c", topic: "devices/dev1/x", access: .write))
        #expect(!s.brokerAllows(username: "dev1", clientId: "c", topic: "devices/dev2/x", access: .write))
        #expect(s.brokerAllows(username: "dev1", clientId: "c", topic: "plant/l9/temp", access: .read))
    }

    /// Sets get tries within a budget (here a small one): the users whose set got none walk their
    /// roles one by one, and every user still gets the reference matcher's answers.
    @Test func roleSetsBeyondTheBudgetWalkTheirRoles() {
        let roles = (0..<30).map { r in
            Role(name: "r\(r)", permissions: [permission("site/l\(r)/+/temp", .read), permission("site/l\(r)/cmd", .write)])
        }
        var users: [User] = []
        for a in 0..<30 { for b in (a + 1)..<30 { users.append(user("u\(a)-\(b)", roles: ["r\(a)", "r\(b)"])) } }
        let s = Snapshot(policy: Policy(users: users, roles: roles, registry: RegistryWindow(openUntil: 0)), version: 0,
                         prefetchAbove: 64 << 10)
        #expect(s.compiled.roleSetTries > 0 && s.compiled.roleSetTries < users.count)
        for u in users {
            for topic in ["site/l3/m/temp", "site/l17/cmd", "site/l29/x/temp", "site/l0/cmd"] {
                for access in [Access.read, .write] {
                    #expect(s.brokerAllows(username: u.username, clientId: "c", topic: topic, access: access)
                            == s.decide(username: u.username, clientId: "c", topic: topic, access: access).isAllowed)
                }
            }
        }
    }

    @Test func emptyPolicyAndCounters() {
        #expect(!Snapshot.empty.brokerAllows(username: "a", clientId: "c", topic: "a", access: .read))
        #expect(Snapshot.empty.aclRuleCount == 0)
        let s = plant
        // http permissions are not compiled; mqtt ones are.
        #expect(s.aclRuleCount == 10)
        #expect(s.aclMemoryBytes > 0)
    }

    // MARK: - the hot path in a loop

    /// A million checks on prepared buffers (the benchmark measures allocations exactly; this at least
    /// runs the byte API the way the broker does, with buffers that are not Strings).
    @Test func millionChecksOnPreparedBuffers() {
        let s = plant
        let parts: [[UInt8]] = [Array("m1".utf8), Array("m1-7".utf8), Array("factory/m1/telemetry/temp".utf8),
                                Array("devices/m1-7/state".utf8), Array("factory/+/cmd".utf8)]
        let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: parts.reduce(0) { $0 + $1.count })
        defer { storage.deallocate() }
        var offset = 0
        var views: [UnsafeBufferPointer<UInt8>] = []
        for part in parts {
            _ = UnsafeMutableBufferPointer(rebasing: storage[offset..<offset + part.count]).initialize(from: part)
            views.append(UnsafeBufferPointer(rebasing: storage[offset..<offset + part.count]))
            offset += part.count
        }
        let (username, clientId, telemetry, state, filter) = (views[0], views[1], views[2], views[3], views[4])
        var allowed = 0
        for i in 0..<250_000 {
            if s.allows(username: username, clientId: clientId, subject: telemetry, access: .write) { allowed += 1 }
            if s.allows(username: username, clientId: clientId, subject: state, access: i & 1 == 0 ? .read : .write) { allowed += 1 }
            if s.allows(username: username, clientId: clientId, subject: telemetry, access: .read) { allowed += 1 }
            if s.allows(username: username, clientId: clientId, subject: filter, access: .subscribe) { allowed += 1 }
        }
        #expect(allowed == 500_000)
    }
}

@Suite struct PrefixedRoleSetTests {
    /// A prefixed user whose roles mix %u (plain trie) with literal '+' filters: the publish walk
    /// must match prefix + topic exactly as the reference matcher does.
    @Test func prefixedUserWithTwoRolesMatchesLikeTheReference() {
        let roles = [Role(name: "site-writer", permissions: [permission("site1/sensors/%u/#", .write), permission("site1/+/alarm", .readWrite)]),
                     Role(name: "fleet", permissions: [permission("devices/%u/#", .readWrite), permission("fleet/+/status", .read),
                                                        permission("cmd/%c", .read)])]
        for determinize in [true, false] {
            let s = snapshot(roles: roles, users: [user("pfx-1", roles: ["site-writer", "fleet"], prefix: "site1/")], determinize: determinize)
            for topic in ["line2/alarm", "x/alarm", "sensors/pfx-1/t", "alarm", "line2/alarm/x"] {
                let want = s.decide(username: "pfx-1", clientId: "c", topic: "site1/" + topic, access: .write).isAllowed
                #expect(s.brokerAllows(username: "pfx-1", clientId: "c", topic: topic, access: .write) == want,
                        "write \(topic), determinize \(determinize)")
            }
        }
    }
}
