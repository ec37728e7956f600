// The compiled ACL: what the broker's hot path reads.
//
// Layout. Every role gets its own trie keyed by topic level, stored as its own small open-addressing
// hash table inside one contiguous slot array shared by all roles. An edge (parent node, level tag)
// lives in slot s, and s *is* the child's node id, so a slot holds nothing but the edge key and the
// child's flags (8 bytes). A table has 3/2 slots per node of its role, whatever their number, so a
// million rules take about 25 bytes each; tries under 8 MB get 4 slots per node, so that a probe
// nearly always ends in the slot it starts at. Level tags are ids of
// distinct literal level strings (interned once per snapshot in `levelNames`), or one of the
// reserved tags for `+`, `%u`, `%c`.
// `#` is no edge: it is a flag on the node where it hangs ("this path and everything below it").
// While all tries together stay small enough for the CPU caches, roles get *deterministic* tries
// (TrieDeterminizer.swift): a walk takes one edge per level and never backtracks. Roles with %u /
// %c edges, and large policies, keep the plain trie, walked with backtracking.
//
// A check asks for the user's slot (UserTable.swift: it holds the heads of the user's first tries),
// splits and validates the topic in one pass while looking up each level's id (at most `maxDepth`
// of them, in a stack buffer), then finds the user and walks the trie of each of the user's roles,
// or the one trie of all of them when the user holds several (RoleSetTries.swift).
// The cost depends on the topic and on those roles' tries only, never on how many other roles or
// rules the policy has, and a role's slots are contiguous.
//
// Semantics are those of `TopicFilter.matches` / `covers` (Topic.swift) over `ReferenceAcl`, which the
// tests compare this against on random policies.

#if canImport(Glibc)
import Glibc
#endif
import CSystemLibraries

/// The outcome of a hot-path check; the deny cases mirror `DenyReason`.
enum AclVerdict: UInt8, Sendable {
    case allowed, unknownUser, userDisabled, noRoles, invalidTopic, noMatchingPermission
}

/// Immutable after init; owns raw buffers so that a check touches memory through plain pointers
/// (no retains, no bounds checks, no copy-on-write checks). Safe to share across threads.
final class CompiledAcl: @unchecked Sendable {
    let levelNames: LevelTable
    let slots: UnsafeMutableBufferPointer<TrieSlot>
    /// Roles compiled (each has its trie, possibly empty).
    let roleCount: Int
    let users: UserTable
    /// The tries outgrow the CPU caches: a check prefetches the slots it will probe (`TrieWalk.prefetch`).
    let prefetchTries: Bool
    /// How full the tries' tables are (`roomyLoad` for policies whose tries stay small).
    let load: TrieLoad
    /// Longest permission filter, in levels before any '#': topic levels past it are never looked up.
    let maxDepth: Int
    let usesUsername: Bool
    let usesClientId: Bool
    /// Roles whose trie is deterministic (TrieDeterminizer.swift); the others keep the plain one.
    let deterministicRoles: Int
    /// Tries of role sets that users hold together (RoleSetTries.swift).
    let roleSetTries: Int
    /// `TrieNode.hashRead` / `hashWrite` when some role's trie has '#' at its root: a user holding
    /// it may read / write every topic but "$..." ones (historians, bridges, dashboards subscribed
    /// to '#'), whose checks then need the topic validated, not described and walked.
    let rootHashBits: UInt8
    /// MQTT permissions compiled (valid filters, over all roles).
    let ruleCount: Int
    /// False when the policy has more distinct topic levels than an edge tag can name
    /// (`EdgeTag.firstReserved`, about 16.7 million): the tries are then left empty, and `Snapshot`
    /// answers with the reference matcher instead (slower, and allocating, but right).
    let complete: Bool

    /// How full a role's table is: it has `nodes / load` slots (rounded up), plus the slots its
    /// probe runs spill into past the end and one empty slot that ends them. Two thirds keeps a
    /// large policy's tries small enough for the CPU's last-level cache (8 bytes a slot, 12 a node).
    static let denseLoad = TrieLoad(nodes: 2, slots: 3)
    /// A quarter: a walk nearly always finds an edge, or learns there is none, in the slot it
    /// hashes to. Probe runs of random length cost mispredicted branches, not just instructions:
    /// measured at 10⁴ rules, 1,584 → 1,500 instructions and about 10 % less time per check.
    /// Used while the tries stay below half of `prefetchThreshold` (8 MB) even at this load
    /// (`roomyEdges`): the deterministic tries of 10⁵ rules laid out this way (14 MB instead of 5)
    /// were no faster in `make bench` on a host whose L3 cache is shared, while those of 10⁴ rules
    /// with their role sets' (4.7 MB instead of 1.8) were 10 % faster than laid out dense.
    static let roomyLoad = TrieLoad(nodes: 1, slots: 4)

    /// Edges the tries may have in all to be laid out `roomyLoad`.
    static func roomyEdges(prefetchAbove: Int) -> Int {
        prefetchAbove / 2 / (roomyLoad.slots / roomyLoad.nodes * MemoryLayout<TrieSlot>.stride)
    }
    /// Tries smaller than this mostly stay in the CPU caches, where prefetching costs more than it
    /// saves (measured: a few percent slower at 10⁵ rules, 5 MB; 5–20 % faster at 10⁶, 62 MB), and
    /// where they can be laid out `roomyLoad` for the price of some memory.
    static let prefetchThreshold = 16 << 20

    /// Deterministic tries may have this many times the nodes of the plain ones (plus a few);
    /// a role whose trie would grow more keeps its plain trie.
    static let deterministicGrowth = 4

    /// `levelLimit`: distinct literal levels an edge tag can name (tests lower it). `determinize`:
    /// make the roles' tries deterministic where it can be done (tests compare both forms).
    init(acl: ReferenceAcl, users: [UserEntry], prefetchAbove: Int = CompiledAcl.prefetchThreshold,
         levelLimit: UInt32 = EdgeTag.firstReserved, determinize: Bool = true) {
        var names = LevelTableBuilder()
        var roleNodes: [RoleNodes] = []
        roleNodes.reserveCapacity(acl.roles.count)
        var roleDollarTags: [Set<UInt32>] = []
        var scratch = TrieScratch()
        var maxDepth = 0
        var usesUsername = false
        var usesClientId = false
        var complete = true

        compile: for role in acl.roles {
            scratch.reset(expectedNodes: role.entries.reduce(1) { $0 + $1.filter.levels.count })
            var dollarTags = Set<UInt32>()
            for entry in role.entries {
                let bits = TrieNode.endBits(entry.permission.operation)
                var node = 0
                var depth = 0
                var endsInHash = false
                levels: for level in entry.filter.levels {
                    let tag: UInt32
                    let kind: UInt8
                    switch level {
                    case .multi:
                        endsInHash = true
                        break levels
                    case .single:
                        (tag, kind) = (EdgeTag.plus, TrieNode.plusChild)
                    case .username:
                        (tag, kind) = (EdgeTag.username, TrieNode.usernameChild)
                        usesUsername = true
                    case .clientId:
                        (tag, kind) = (EdgeTag.clientId, TrieNode.clientIdChild)
                        usesClientId = true
                    case .literal(let text):
                        (tag, kind) = (names.intern(text), TrieNode.literalChildren)
                        if tag >= levelLimit {
                            complete = false
                            break compile
                        }
                        if depth == 0 && text.utf8.first == TopicSyntax.dollar { dollarTags.insert(tag) }
                    }
                    node = scratch.child(of: node, tag: tag, kind: kind)
                    depth += 1
                }
                scratch.info[node] |= endsInHash ? bits << 2 : bits
                maxDepth = max(maxDepth, depth)
            }
            roleNodes.append(scratch.nodes)
            roleDollarTags.append(dollarTags)
        }
        // Deterministic tries only while all of them together stay small enough for the CPU caches
        // (slots two thirds full below `prefetchAbove`): they have about twice the nodes, and a walk
        // that no longer waits for mispredicted branches would wait for memory instead.
        let plainNodes = roleNodes
        var userSetTrie = [Int?](repeating: nil, count: users.count)
        if determinize, let deterministic = TrieDeterminizer.determinize(
            roleNodes, dollarTags: roleDollarTags, growth: Self.deterministicGrowth,
            budget: prefetchAbove * Self.denseLoad.nodes / Self.denseLoad.slots / MemoryLayout<TrieSlot>.stride) {
            roleNodes = deterministic
            // Users who hold several roles walk one trie of them all (RoleSetTries.swift), while the
            // tries can still be laid out roomy.
            if complete {
                userSetTrie = RoleSetTries.build(users: users, plain: plainNodes, dollarTags: roleDollarTags,
                                                 into: &roleNodes, scratch: &scratch, growth: Self.deterministicGrowth,
                                                 budget: Self.roomyEdges(prefetchAbove: prefetchAbove))
            }
        }
        roleDollarTags = []
        // Every node but the roots takes one slot: the tries' size at a quarter full is known
        // before they are laid out.
        let edges = roleNodes.reduce(0) { $0 + $1.edgeCount }
        let load = edges < Self.roomyEdges(prefetchAbove: prefetchAbove) ? Self.roomyLoad : Self.denseLoad
        var slots: [TrieSlot] = []
        var slotOf: [UInt32] = []
        var heads = roleNodes.map { $0.layOut(into: &slots, load: load, slotOf: &slotOf) }
        var deterministicRoles = roleNodes.prefix(plainNodes.count).reduce(0) { $0 + ($1.deterministic ? 1 : 0) }
        let roleSetTries = roleNodes.count - plainNodes.count
        roleNodes = []
        if !complete {
            names = LevelTableBuilder()
            slots = []
            heads = Array(repeating: .none, count: acl.roles.count)
            deterministicRoles = 0
            maxDepth = 0
        }

        var sources: [UserSource] = []
        sources.reserveCapacity(users.count)
        // `users` comes from a dictionary: one entry per name.
        for (u, user) in users.enumerated() {
            let tries = userSetTrie[u].map { [heads[$0]] } ?? user.roleIDs.map { heads[$0] }
            sources.append(UserSource(name: Array(user.username.utf8), enabled: user.enabled,
                                      tries: tries, prefix: Array((user.publishPrefix ?? "").utf8)))
        }

        self.levelNames = names.freeze()
        self.slots = Frozen.copy(slots)
        self.roleCount = heads.count
        self.users = UserTable.build(sources)
        self.prefetchTries = slots.count * MemoryLayout<TrieSlot>.stride >= prefetchAbove
        self.load = load
        self.maxDepth = maxDepth
        self.usesUsername = usesUsername
        self.usesClientId = usesClientId
        self.deterministicRoles = deterministicRoles
        self.roleSetTries = roleSetTries
        self.rootHashBits = heads.reduce(0) { $0 | $1.rootInfo } & (TrieNode.hashRead | TrieNode.hashWrite)
        self.ruleCount = acl.roles.reduce(0) { $0 + $1.entries.count }
        self.complete = complete
    }

    deinit {
        levelNames.deallocate()
        Frozen.free(slots)
        users.deallocate()
    }

    /// Bytes held by the compiled form (tries, level names, user table).
    var memoryBytes: Int {
        levelNames.memoryBytes + users.memoryBytes + slots.count * MemoryLayout<TrieSlot>.stride
    }

    /// Of those, the bytes in 2 MB-page mappings of their own (`Frozen`), rounded up to whole pages.
    var mappedBytes: Int {
        levelNames.mappedBytes + users.mappedBytes + Frozen.mappedBytes(slots)
    }

    // MARK: - checks

    var describer: TopicDescriber { TopicDescriber(levelNames: levelNames, maxDepth: maxDepth) }

    @inline(__always)
    private static func lookUpUser(_ users: UserTable, _ username: UnsafeBufferPointer<UInt8>,
                                   _ probe: UserTable.Probe) -> (AclVerdict, UnsafePointer<UserSlot>?) {
        guard let user = users.find(username, probe) else { return (.unknownUser, nil) }
        if !user.pointee.isEnabled { return (.userDisabled, user) }
        if user.pointee.roleCount == 0 { return (.noRoles, user) }
        return (.allowed, user)
    }

    /// The user's publish prefix (empty when the user has none or is unknown). Points into this
    /// object's memory: valid while the caller holds it.
    func publishPrefix(username: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard users.anyPrefix, let user = users.find(username) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return users.prefix(user)
    }

    /// Publish (`write`) or delivery (`read`) of a concrete topic; `prefixed`: checked behind the
    /// user's publish prefix (`BrokerSemantics.usesPublishPrefix`).
    func verdict(username: UnsafeBufferPointer<UInt8>, clientId: UnsafeBufferPointer<UInt8>,
                 topic: UnsafeBufferPointer<UInt8>, access: Access, prefixed: Bool) -> AclVerdict {
        let read = access == .read
        return check(TopicNameSyntax.self, username, clientId, topic, prefixed: prefixed,
                     endBit: read ? TrieNode.endRead : TrieNode.endWrite, hashBit: read ? TrieNode.hashRead : TrieNode.hashWrite)
    }

    /// SUBSCRIBE: does one read permission of the user's roles cover every topic `filter` can match?
    /// The filter is the one the permissions are written for (`BrokerSemantics.subscribedFilter`).
    func subscribeVerdict(username: UnsafeBufferPointer<UInt8>, clientId: UnsafeBufferPointer<UInt8>,
                          filter: UnsafeBufferPointer<UInt8>) -> AclVerdict {
        check(TopicFilterSyntax.self, username, clientId, filter, prefixed: false, endBit: TrieNode.endRead, hashBit: TrieNode.hashRead)
    }

    /// Every check: describe the topic or filter, find the user, walk the tries of the user's roles.
    ///
    /// The subject is described before the user is looked up: the user's slot, asked for first, is
    /// then on its way from memory while the subject is split and hashed (at 10⁶ rules it is rarely
    /// cached). A publish by a user with a publish prefix describes prefix + topic again once the
    /// prefix is known. In a policy where some role may read (write) every topic, a delivery
    /// (publish) looks the user up first instead: one who holds such a role needs no more than the
    /// topic's validity, and the others are walked as usual.
    @inline(__always)
    private func check<Syntax: LevelSyntax>(_ syntax: Syntax.Type, _ username: UnsafeBufferPointer<UInt8>,
                                            _ clientId: UnsafeBufferPointer<UInt8>, _ subject: UnsafeBufferPointer<UInt8>,
                                            prefixed: Bool, endBit: UInt8, hashBit: UInt8) -> AclVerdict {
        let probe = UserTable.probe(username)
        users.prefetch(probe)
        let marks = SubstitutionMarks(username: usesUsername && ByteCompare.canStandAsOneLevel(username) ? username : nil,
                                      clientId: usesClientId && ByteCompare.canStandAsOneLevel(clientId) ? clientId : nil)
        // The closure captures these copies (plain pointers and numbers), not self: a captured self
        // is retained and released around every check.
        let describer = self.describer
        let users = self.users
        let slots = self.slots.baseAddress.unsafelyUnwrapped
        let prefetchTries = self.prefetchTries
        let found: (AclVerdict, UnsafePointer<UserSlot>?)?
        if !Syntax.wildcards && rootHashBits & hashBit != 0 {
            let user = Self.lookUpUser(users, username, probe)
            guard user.0 == .allowed, let slot = user.1 else { return user.0 }
            if Self.mayUseEveryTopic(users, slot, subject, prefixed: prefixed, hashBit: hashBit) { return .allowed }
            found = user
        } else {
            found = nil
        }
        return withLevelBuffer { levels in
            var described = describer.describe(subject, Syntax.self, marks, into: levels)
            let (verdict, user) = found ?? Self.lookUpUser(users, username, probe)
            guard verdict == .allowed, let user else { return verdict }
            if prefixed {
                let prefix = users.prefix(user)
                if !prefix.isEmpty { described = describer.describe(prefix, then: subject, marks, into: levels) }
            }
            guard described.count > 0 else { return .invalidTopic }

            var walk = TrieWalk(slots: slots, levels: UnsafePointer(levels), count: described.count,
                                dollar: described.dollar, endBit: endBit, hashBit: hashBit)
            let roleCount = Int(truncatingIfNeeded: user.pointee.roleCount)
            if prefetchTries {
                for r in 0..<min(roleCount, 3) { walk.prefetch(users.trie(user, r), described: min(described.count, describer.maxDepth)) }
            }
            for r in 0..<roleCount {
                let role = users.trie(user, r)
                walk.enter(role)
                if Syntax.wildcards ? walk.covers(role.rootInfo, firstLevelEmpty: described.firstLevelEmpty)
                    : walk.matches(role.rootInfo) { return .allowed }
            }
            return .noMatchingPermission
        }
    }

    /// Whether one of the user's tries has '#' (`hashBit`) at its root and `topic` is a valid topic
    /// name it matches: not a "$..." one, and not behind a publish prefix (whose own first level
    /// would decide).
    @inline(__always)
    private static func mayUseEveryTopic(_ users: UserTable, _ user: UnsafePointer<UserSlot>, _ topic: UnsafeBufferPointer<UInt8>,
                                         prefixed: Bool, hashBit: UInt8) -> Bool {
        guard topic.count > 0, let base = topic.baseAddress, base[0] != TopicSyntax.dollar,
              !prefixed || user.pointee.prefixCount == 0 else { return false }
        var holds = false
        for r in 0..<Int(truncatingIfNeeded: user.pointee.roleCount) where users.trie(user, r).rootInfo & hashBit != 0 {
            holds = true
            break
        }
        return holds && topic.count <= TopicSyntax.maxBytes && ByteScan.isTopicName(base, topic.count)
    }

    /// Runs `body` with room for `maxDepth` level descriptions: up to `LevelBuffer.capacity` of them
    /// in a fixed stack buffer, which keeps the check in one function.
    @inline(__always)
    private func withLevelBuffer(_ body: (UnsafeMutablePointer<LevelInfo>) -> AclVerdict) -> AclVerdict {
        if maxDepth <= LevelBuffer.capacity {
            var buffer = LevelBuffer()
            return withUnsafeMutableBytes(of: &buffer.levels) { bytes in
                body(bytes.bindMemory(to: LevelInfo.self).baseAddress.unsafelyUnwrapped)
            }
        }
        return withUnsafeTemporaryAllocation(of: LevelInfo.self, capacity: maxDepth) { body($0.baseAddress.unsafelyUnwrapped) }
    }
}
