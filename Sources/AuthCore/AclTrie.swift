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
// (TrieDeterminize.swift): a walk takes one edge per level and never backtracks. Roles with %u /
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
import CShim

/// Flags of a trie node (stored in the slot of the edge that leads to it; the root's in `RoleTrie`).
enum TrieNode {
    /// A permission's filter ends here, with read / write access.
    static let endRead: UInt8 = 0x01
    static let endWrite: UInt8 = 0x02
    /// A permission "<path to here>/#" (or "#" at the root), with read / write access.
    static let hashRead: UInt8 = 0x04
    static let hashWrite: UInt8 = 0x08
    /// Which kinds of child edges exist: a walk probes only for those.
    static let literalChildren: UInt8 = 0x10
    static let plusChild: UInt8 = 0x20
    static let usernameChild: UInt8 = 0x40
    static let clientIdChild: UInt8 = 0x80
    static let anyChild: UInt8 = 0xF0

    /// Node id of every root (never a slot index), and of a deterministic trie's root for topics
    /// that start with '$' (TrieDeterminize.swift).
    static let root: UInt32 = .max
    static let dollarRoot: UInt32 = .max - 1

    /// In a root's flags only (`RoleTrie.rootInfo`): the role's trie is deterministic. A filter has
    /// at least one level, so no permission ends at a root and this bit is free there.
    static let deterministic: UInt8 = endRead
    /// In a deterministic trie's root flags: its root for '$' topics has (literal) edges.
    static let dollarLiterals: UInt8 = endWrite
    /// Kinds of child edges a deterministic trie has.
    static let deterministicChildren: UInt8 = literalChildren | plusChild

    @inline(__always)
    static func endBits(_ operation: Operation) -> UInt8 {
        switch operation {
        case .read: return endRead
        case .write: return endWrite
        case .readWrite: return endRead | endWrite
        }
    }
}

/// Edge labels (24 bits) besides literal level ids (which stay below `firstReserved`).
enum EdgeTag {
    static let empty: UInt32 = 0xFF_FFFF
    static let plus: UInt32 = 0xFF_FFFE
    static let username: UInt32 = 0xFF_FFFD
    static let clientId: UInt32 = 0xFF_FFFC
    static let firstReserved: UInt32 = 0xFF_FFF8
    /// A topic level that is no literal of any permission.
    static let none: UInt32 = 0xFF_FFFF
}

/// One hash-table slot = one edge = one node, in one word: the parent node (bits 0–31), the child's
/// flags (32–39) and the edge's tag (40–63). A probe compares parent and tag in one masked compare,
/// and 8-byte slots keep a million rules' tries near the size of the CPU's last-level cache.
struct TrieSlot {
    var word: UInt64

    static let keyMask: UInt64 = 0xFFFF_FF00_FFFF_FFFF
    static let empty = TrieSlot(word: UInt64(EdgeTag.empty) &<< 40)

    init(word: UInt64) {
        self.word = word
    }

    init(parent: UInt32, tag: UInt32, info: UInt8) {
        word = Self.key(parent, tag) | UInt64(info) &<< 32
    }

    @inline(__always)
    static func key(_ parent: UInt32, _ tag: UInt32) -> UInt64 {
        UInt64(tag) &<< 40 | UInt64(parent)
    }

    @inline(__always)
    var info: UInt8 { UInt8(truncatingIfNeeded: word &>> 32) }

    @inline(__always)
    var isEmpty: Bool { word &>> 40 == UInt64(EdgeTag.empty) }
}


/// What the walk needs to know about one level of the topic / filter being checked.
struct LevelInfo {
    /// Id in `levelNames`, or `EdgeTag.none`.
    var id: UInt32
    var flags: UInt8

    static let equalsUsername: UInt8 = 0x01
    static let equalsClientId: UInt8 = 0x02
    /// Subscription filters only.
    static let plus: UInt8 = 0x04
    static let hash: UInt8 = 0x08
}

/// Room for the level descriptions of a check on the stack, for policies whose filters have at most
/// `capacity` levels before any '#' (nearly all).
struct LevelBuffer {
    static let capacity = 16
    var levels: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                 UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}

/// What `describeLevels` compares each topic level with besides the level table. Two forms, so that
/// the loop for a policy without %u / %c (most) holds no such comparisons, nor registers for them.
protocol LevelMarks {
    /// `LevelInfo.equalsUsername` / `equalsClientId` for the level `level[0..<count]`.
    func flags(_ level: UnsafePointer<UInt8>, _ count: Int) -> UInt8
}

/// No level can stand for the username or client id: the policy has no %u / %c, or the connection's
/// values cannot stand as one level.
struct NoLevelMarks: LevelMarks {
    @inline(__always)
    func flags(_ level: UnsafePointer<UInt8>, _ count: Int) -> UInt8 { 0 }
}

/// The connection's username and client id, each nil when the policy does not use it or it cannot
/// stand as one level.
struct SubstitutionMarks: LevelMarks {
    let username: UnsafeBufferPointer<UInt8>?
    let clientId: UnsafeBufferPointer<UInt8>?

    @inline(__always)
    func flags(_ level: UnsafePointer<UInt8>, _ count: Int) -> UInt8 {
        var flags: UInt8 = 0
        if let username, username.count == count, ByteCompare.equal(level, username.baseAddress, count) {
            flags |= LevelInfo.equalsUsername
        }
        if let clientId, clientId.count == count, ByteCompare.equal(level, clientId.baseAddress, count) {
            flags |= LevelInfo.equalsClientId
        }
        return flags
    }
}

/// The outcome of a hot-path check; the deny cases mirror `DenyReason`.
enum AclVerdict: UInt8, Sendable {
    case allowed, unknownUser, userDisabled, noRoles, invalidTopic, noMatchingPermission
}

/// 32-bit hash of the edge (parent, tag): the high half of a multiplicative hash.
@inline(__always)
func edgeHash(_ parent: UInt32, _ tag: UInt32) -> UInt64 {
    let key = UInt64(parent) &<< 32 | UInt64(tag)
    return (key &* ByteHash.multiplier) &>> 32
}

/// Home slot of the edge (parent, tag) in a table of `size` slots: its hash scaled to the size
/// (tables are sized to their role, not to a power of two).
@inline(__always)
func trieIndex(_ parent: UInt32, _ tag: UInt32, size: UInt64) -> Int {
    Int(truncatingIfNeeded: (edgeHash(parent, tag) &* size) &>> 32)
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
    /// Roles whose trie is deterministic (TrieDeterminize.swift); the others keep the plain one.
    let deterministicRoles: Int
    /// Tries of role sets that users hold together (RoleSetTries.swift).
    let roleSetTries: Int
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

    @inline(__always)
    private func lookUpUser(_ username: UnsafeBufferPointer<UInt8>, _ probe: UserTable.Probe) -> (AclVerdict, UnsafePointer<UserSlot>?) {
        guard let user = users.find(username, probe) else { return (.unknownUser, nil) }
        if !user.pointee.isEnabled { return (.userDisabled, user) }
        if user.pointee.roleCount == 0 { return (.noRoles, user) }
        return (.allowed, user)
    }

    /// Describes one literal level of the topic / filter: its interned id, and whether it is the
    /// username / client id (only worked out when the policy uses %u / %c and the value may stand).
    @inline(__always)
    private func describe(_ seq: ByteSeq, from start: Int, to end: Int, username: UnsafeBufferPointer<UInt8>?,
                          clientId: UnsafeBufferPointer<UInt8>?) -> LevelInfo {
        var flags: UInt8 = 0
        if let username, seq.equals(from: start, to: end, username) { flags |= LevelInfo.equalsUsername }
        if let clientId, seq.equals(from: start, to: end, clientId) { flags |= LevelInfo.equalsClientId }
        return LevelInfo(id: levelNames.find(seq, from: start, to: end), flags: flags)
    }

    /// Splits a topic name at '/', validating it (no NUL, '+', '#'), and describes its first
    /// `maxDepth` levels into `levels`. Returns the number of levels, or 0 when the topic is invalid.
    /// This and the trie walk are the whole cost of a delivery check, so it reads a word at a time:
    /// a level of at most 16 bytes is found, checked and looked up from the two words it is read in.
    @inline(__always)
    private func describeLevels<Marks: LevelMarks>(of topic: UnsafeBufferPointer<UInt8>, into levels: UnsafeMutablePointer<LevelInfo>,
                                                   marks: Marks) -> Int {
        guard let base = topic.baseAddress else { return 0 }
        let count = topic.count
        // Locals, not fields of `self`: the stores into `levels` could alias this object as far as
        // the compiler knows, which would otherwise reload every field on every level.
        let levelNames = self.levelNames
        let maxDepth = self.maxDepth
        var levelCount = 0
        var start = 0
        while true {
            // The level's first two words, read up to its end or its first other byte below 0x30.
            var head = ByteScan.word(base, at: start, count: count)
            var tail: UInt64 = 0
            var stops = ByteScan.below0x30(head)
            var end: Int
            if stops != 0 {
                end = start &+ stops.trailingZeroBitCount &>> 3
                head &= ByteScan.lowBytes(end &- start)
            } else {
                tail = ByteScan.word(base, at: start &+ 8, count: count)
                stops = ByteScan.below0x30(tail)
                end = start &+ (stops == 0 ? 16 : 8 &+ stops.trailingZeroBitCount &>> 3)
                if stops != 0 { tail &= ByteScan.lowBytes(end &- start &- 8) }
            }
            if end != count && base[end] != TopicSyntax.slash {
                // Longer than 16 bytes, or a byte such as '-' or '.' on the way (or an invalid one).
                end = ByteScan.levelEnd(base, from: end, count: count)
                if end < 0 { return 0 }
                (head, tail) = LevelTable.words(base + start, end &- start)
            }
            if levelCount < maxDepth {
                let id = levelNames.find(head: head, tail: tail, base + start, end &- start)
                (levels + levelCount).initialize(to: LevelInfo(id: id, flags: marks.flags(base + start, end &- start)))
            }
            levelCount &+= 1
            if end == count { return levelCount }
            start = end &+ 1
        }
    }

    /// `describeLevels(of:)` for publish prefix + topic, whose levels may straddle the two.
    private func describeLevels(of seq: ByteSeq, into levels: UnsafeMutablePointer<LevelInfo>,
                                username: UnsafeBufferPointer<UInt8>?, clientId: UnsafeBufferPointer<UInt8>?) -> Int {
        var levelCount = 0
        var levelStart = 0
        var offset = 0
        for part in 0..<2 {
            let bytes = part == 0 ? seq.first : seq.second
            guard let base = bytes.baseAddress else { continue }
            for j in 0..<bytes.count {
                let byte = base[j]
                if byte <= TopicSyntax.slash {  // '/', '+', '#' and NUL are all ≤ 0x2F
                    if byte == TopicSyntax.slash {
                        if levelCount < maxDepth {
                            (levels + levelCount).initialize(to: describe(seq, from: levelStart, to: offset &+ j,
                                username: username, clientId: clientId))
                        }
                        levelCount &+= 1
                        levelStart = offset &+ j &+ 1
                    } else if byte == TopicSyntax.nul || byte == TopicSyntax.plus || byte == TopicSyntax.hash {
                        return 0
                    }
                }
            }
            offset &+= bytes.count
        }
        if levelCount < maxDepth {
            (levels + levelCount).initialize(to: describe(seq, from: levelStart, to: seq.count, username: username, clientId: clientId))
        }
        return levelCount &+ 1
    }

    /// The user's publish prefix (empty when the user has none or is unknown). Points into this
    /// object's memory: valid while the caller holds it.
    func publishPrefix(username: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard let user = users.find(username) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return users.prefix(user)
    }

    /// Publish (`write`, on publish prefix + topic) or delivery (`read`) of a concrete topic.
    ///
    /// The topic is described before the user is looked up: the user's slot, asked for first, is then
    /// on its way from memory while the topic is split and hashed (at 10⁶ rules it is rarely cached).
    /// A publish by a user with a publish prefix describes prefix + topic again once the prefix is known.
    func verdict(username: UnsafeBufferPointer<UInt8>, clientId: UnsafeBufferPointer<UInt8>,
                 topic: UnsafeBufferPointer<UInt8>, access: Access) -> AclVerdict {
        let probe = UserTable.probe(username)
        users.prefetch(probe)
        let substituteUsername = usesUsername && ByteCompare.canStandAsOneLevel(username) ? username : nil
        let substituteClientId = usesClientId && ByteCompare.canStandAsOneLevel(clientId) ? clientId : nil
        let maxDepth = self.maxDepth

        // Stack memory: maxDepth is the policy's longest filter (a handful of levels). Up to
        // `LevelBuffer.capacity` of them in a fixed buffer, which keeps the check in one function.
        if maxDepth <= LevelBuffer.capacity {
            var buffer = LevelBuffer()
            return withUnsafeMutableBytes(of: &buffer.levels) { bytes in
                check(username, probe, topic, access, substituteUsername, substituteClientId,
                      levels: bytes.bindMemory(to: LevelInfo.self).baseAddress.unsafelyUnwrapped)
            }
        }
        return withUnsafeTemporaryAllocation(of: LevelInfo.self, capacity: maxDepth) { buffer in
            check(username, probe, topic, access, substituteUsername, substituteClientId, levels: buffer.baseAddress.unsafelyUnwrapped)
        }
    }

    /// `verdict`, with a buffer for `maxDepth` level descriptions.
    @inline(__always)
    private func check(_ username: UnsafeBufferPointer<UInt8>, _ probe: UserTable.Probe, _ topic: UnsafeBufferPointer<UInt8>,
                       _ access: Access, _ substituteUsername: UnsafeBufferPointer<UInt8>?,
                       _ substituteClientId: UnsafeBufferPointer<UInt8>?, levels: UnsafeMutablePointer<LevelInfo>) -> AclVerdict {
        var levelCount = 0
        if topic.count > 0 && topic.count <= TopicSyntax.maxBytes {
            levelCount = substituteUsername == nil && substituteClientId == nil
                ? describeLevels(of: topic, into: levels, marks: NoLevelMarks())
                : describeLevels(of: topic, into: levels, marks: SubstitutionMarks(username: substituteUsername, clientId: substituteClientId))
        }

        let (found, user) = lookUpUser(username, probe)
        guard found == .allowed, let user else { return found }
        let prefix = access == .write ? users.prefix(user) : UnsafeBufferPointer(start: nil, count: 0)
        let seq = ByteSeq(prefix, topic)
        if !prefix.isEmpty {
            levelCount = seq.count <= TopicSyntax.maxBytes
                ? describeLevels(of: seq, into: levels, username: substituteUsername, clientId: substituteClientId) : 0
        }
        guard levelCount > 0 else { return .invalidTopic }

        let read = access == .read
        var walk = TrieWalk(slots: slots.baseAddress.unsafelyUnwrapped, levels: UnsafePointer(levels), count: levelCount,
                            dollar: seq[0] == TopicSyntax.dollar,
                            endBit: read ? TrieNode.endRead : TrieNode.endWrite,
                            hashBit: read ? TrieNode.hashRead : TrieNode.hashWrite)
        let roleCount = Int(truncatingIfNeeded: user.pointee.roleCount)
        if prefetchTries {
            for r in 0..<min(roleCount, 3) { walk.prefetch(users.trie(user, r), described: min(levelCount, maxDepth)) }
        }
        for r in 0..<roleCount {
            let role = users.trie(user, r)
            walk.enter(role)
            if role.rootInfo & TrieNode.deterministic != 0 ? walk.matchesDeterministic(role.rootInfo)
                : walk.matches(TrieNode.root, role.rootInfo, 0) { return .allowed }
        }
        return .noMatchingPermission
    }

    /// SUBSCRIBE: does one read permission of the user's roles cover every topic `filter` can match?
    /// `$share/GROUP/` is stripped first.
    func subscribeVerdict(username: UnsafeBufferPointer<UInt8>, clientId: UnsafeBufferPointer<UInt8>,
                          filter rawFilter: UnsafeBufferPointer<UInt8>) -> AclVerdict {
        let (found, user) = lookUpUser(username, UserTable.probe(username))
        guard found == .allowed, let user else { return found }
        let filter = Self.stripSharePrefix(rawFilter)
        let total = filter.count
        guard total > 0, total <= TopicSyntax.maxBytes, let base = filter.baseAddress else { return .invalidTopic }
        let seq = ByteSeq(UnsafeBufferPointer(start: nil, count: 0), filter)
        let substituteUsername = usesUsername && ByteCompare.canStandAsOneLevel(username) ? username : nil
        let substituteClientId = usesClientId && ByteCompare.canStandAsOneLevel(clientId) ? clientId : nil
        let maxDepth = self.maxDepth

        return withUnsafeTemporaryAllocation(of: LevelInfo.self, capacity: max(maxDepth, 1)) { buffer -> AclVerdict in
            let levels = buffer.baseAddress.unsafelyUnwrapped
            var levelCount = 0
            var levelStart = 0
            var sawPlus = false
            var sawHash = false
            var j = 0
            while true {
                let atEnd = j == total
                let byte = atEnd ? TopicSyntax.slash : base[j]
                if byte <= TopicSyntax.slash {
                    if byte == TopicSyntax.slash {
                        // End of a level: '#' must be alone and last, '+' alone.
                        let length = j &- levelStart
                        if (sawHash && (length != 1 || !atEnd)) || (sawPlus && length != 1) { return .invalidTopic }
                        if levelCount < maxDepth {
                            let info = sawHash ? LevelInfo(id: EdgeTag.none, flags: LevelInfo.hash)
                                : sawPlus ? LevelInfo(id: EdgeTag.none, flags: LevelInfo.plus)
                                : describe(seq, from: levelStart, to: j, username: substituteUsername, clientId: substituteClientId)
                            (levels + levelCount).initialize(to: info)
                        }
                        levelCount &+= 1
                        levelStart = j &+ 1
                        sawPlus = false
                        sawHash = false
                        if atEnd { break }
                    } else if byte == TopicSyntax.plus {
                        sawPlus = true
                    } else if byte == TopicSyntax.hash {
                        sawHash = true
                    } else if byte == TopicSyntax.nul {
                        return .invalidTopic
                    }
                }
                j &+= 1
            }

            var walk = TrieWalk(slots: slots.baseAddress.unsafelyUnwrapped, levels: UnsafePointer(levels), count: levelCount,
                                dollar: base[0] == TopicSyntax.dollar,
                                endBit: TrieNode.endRead, hashBit: TrieNode.hashRead)
            // '+/#' covers '#' and '/+/#' covers '/#': see `TopicFilter.covers`.
            let firstLevelEmpty = base[0] == TopicSyntax.slash
            for r in 0..<Int(truncatingIfNeeded: user.pointee.roleCount) {
                let role = users.trie(user, r)
                walk.enter(role)
                if role.rootInfo & TrieNode.deterministic != 0
                    ? walk.coversDeterministic(role.rootInfo, firstLevelEmpty: firstLevelEmpty)
                    : walk.covers(TrieNode.root, role.rootInfo, 0, firstLevelEmpty: firstLevelEmpty) { return .allowed }
            }
            return .noMatchingPermission
        }
    }

    /// `$share/GROUP/filter` → `filter` (unchanged when there is no second '/'), on bytes.
    static func stripSharePrefix(_ filter: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard filter.count > 7, let base = filter.baseAddress,
              base[0] == UInt8(ascii: "$"), base[1] == UInt8(ascii: "s"), base[2] == UInt8(ascii: "h"),
              base[3] == UInt8(ascii: "a"), base[4] == UInt8(ascii: "r"), base[5] == UInt8(ascii: "e"),
              base[6] == TopicSyntax.slash
        else { return filter }
        var i = 7
        while i < filter.count {
            if base[i] == TopicSyntax.slash {
                return UnsafeBufferPointer(start: base + i + 1, count: filter.count - i - 1)
            }
            i += 1
        }
        return filter
    }
}

/// A walk over one role's trie at a time, for one topic or filter whose levels are described.
struct TrieWalk {
    private let allSlots: UnsafePointer<TrieSlot>
    private var slots: UnsafePointer<TrieSlot>
    private var size: UInt64 = 0
    let levels: UnsafePointer<LevelInfo>
    /// Levels of the topic / filter (only the first `maxDepth` are described).
    let count: Int
    /// The first level starts with '$': a leading '+' or '#' must not match it.
    let dollar: Bool
    let endBit: UInt8
    let hashBit: UInt8

    init(slots: UnsafePointer<TrieSlot>, levels: UnsafePointer<LevelInfo>, count: Int, dollar: Bool, endBit: UInt8, hashBit: UInt8) {
        self.allSlots = slots
        self.slots = slots
        self.levels = levels
        self.count = count
        self.dollar = dollar
        self.endBit = endBit
        self.hashBit = hashBit
    }

    @inline(__always)
    mutating func enter(_ role: RoleTrie) {
        slots = allSlots + Int(truncatingIfNeeded: role.base)
        size = UInt64(role.size)
    }

    /// Asks for the slots a walk of `role` (a plain trie: deterministic ones are only built when
    /// they need no prefetching) probes first: the topic's own literal path and the '+'
    /// edge beside each node of it, at the slots they hash to (where they nearly always are). Their
    /// indices follow from the topic alone, so the misses of all the user's roles overlap, where the
    /// walk would meet them one after another.
    @inline(__always)
    func prefetch(_ role: RoleTrie, described: Int) {
        let slots = allSlots + Int(truncatingIfNeeded: role.base)
        let size = UInt64(role.size)
        var parent = TrieNode.root
        for depth in 0..<described {
            cwauth_prefetch(slots + trieIndex(parent, EdgeTag.plus, size: size))
            let id = levels[depth].id
            if id == EdgeTag.none { return }
            let i = trieIndex(parent, id, size: size)
            cwauth_prefetch(slots + i)
            parent = UInt32(truncatingIfNeeded: i)
        }
    }

    /// Slot of the edge (parent, tag) in the current role's table, or -1. Probes never wrap: a
    /// table's spilled runs and the empty slot that ends them follow it.
    @inline(__always)
    func child(_ parent: UInt32, _ tag: UInt32) -> Int {
        let want = TrieSlot.key(parent, tag)
        var i = trieIndex(parent, tag, size: size)
        while true {
            let slot = slots[i]
            if slot.word & TrieSlot.keyMask == want { return i }
            if slot.isEmpty { return -1 }
            i &+= 1
        }
    }

    /// Does a permission below `node` (at `depth` levels) match the rest of the topic? Loops along
    /// one candidate edge and recurses only where several edges match the same level.
    func matches(_ node: UInt32, _ info: UInt8, _ depth: Int) -> Bool {
        var node = node
        var info = info
        var depth = depth
        while true {
            if info & hashBit != 0 && (depth != 0 || !dollar) { return true }
            if depth == count { return info & endBit != 0 }
            if info & TrieNode.anyChild == 0 { return false }
            // A node with children is shallower than maxDepth, so this level is described.
            let level = levels[depth]
            var next = -1
            if info & TrieNode.literalChildren != 0 && level.id != EdgeTag.none {
                next = child(node, level.id)
            }
            if info & TrieNode.plusChild != 0 && (depth != 0 || !dollar) {
                let edge = child(node, EdgeTag.plus)
                if next >= 0 && edge >= 0 {
                    if matches(UInt32(truncatingIfNeeded: next), slots[next].info, depth &+ 1) { return true }
                }
                if edge >= 0 { next = edge }
            }
            if info & TrieNode.usernameChild != 0 && level.flags & LevelInfo.equalsUsername != 0 {
                let edge = child(node, EdgeTag.username)
                if next >= 0 && edge >= 0 {
                    if matches(UInt32(truncatingIfNeeded: next), slots[next].info, depth &+ 1) { return true }
                }
                if edge >= 0 { next = edge }
            }
            if info & TrieNode.clientIdChild != 0 && level.flags & LevelInfo.equalsClientId != 0 {
                let edge = child(node, EdgeTag.clientId)
                if next >= 0 && edge >= 0 {
                    if matches(UInt32(truncatingIfNeeded: next), slots[next].info, depth &+ 1) { return true }
                }
                if edge >= 0 { next = edge }
            }
            guard next >= 0 else { return false }
            node = UInt32(truncatingIfNeeded: next)
            info = slots[next].info
            depth &+= 1
        }
    }

    /// Where a walk of a deterministic trie starts: the root for the topic's kind, and its flags.
    @inline(__always)
    private func deterministicRoot(_ rootInfo: UInt8) -> (UInt32, UInt8) {
        dollar ? (TrieNode.dollarRoot, rootInfo & TrieNode.dollarLiterals != 0 ? TrieNode.literalChildren : 0)
            : (TrieNode.root, rootInfo & ~(TrieNode.deterministic | TrieNode.dollarLiterals))
    }

    /// The one edge a deterministic walk takes from `node` for a level with literal id `id`
    /// (`EdgeTag.none`: no literal edge can match): that literal, else '+', else none (-1).
    @inline(__always)
    private func deterministicStep(_ node: UInt32, _ info: UInt8, _ id: UInt32) -> Int {
        let next = info & TrieNode.literalChildren != 0 && id != EdgeTag.none ? child(node, id) : -1
        return next < 0 && info & TrieNode.plusChild != 0 ? child(node, EdgeTag.plus) : next
    }

    /// `matches` on a deterministic trie (TrieDeterminize.swift): one edge per level, no backtracking.
    /// A '#' met on the way matches whatever follows; the '$' root has none.
    @inline(__always)
    func matchesDeterministic(_ rootInfo: UInt8) -> Bool {
        var (node, info) = deterministicRoot(rootInfo)
        var reached = info
        var depth = 0
        // A node with children is shallower than maxDepth, so this level is described.
        while depth < count && info & TrieNode.deterministicChildren != 0 {
            let next = deterministicStep(node, info, levels[depth].id)
            guard next >= 0 else { break }
            node = UInt32(truncatingIfNeeded: next)
            info = slots[next].info
            reached |= info
            depth &+= 1
        }
        return reached & hashBit != 0 || (depth == count && info & endBit != 0)
    }

    /// `covers` on a deterministic trie: a literal level of the filter takes its literal edge (which
    /// includes what '+' leads to) or else '+'; a '+' of the filter only '+'.
    func coversDeterministic(_ rootInfo: UInt8, firstLevelEmpty: Bool) -> Bool {
        var (node, info) = deterministicRoot(rootInfo)
        var depth = 0
        while true {
            if info & hashBit != 0 { return true }
            if depth == count { return info & endBit != 0 }
            if info & TrieNode.deterministicChildren == 0 { return false }
            let level = levels[depth]
            if level.flags & LevelInfo.hash != 0 {
                return plusHashCovers(node, info, depth, firstLevelEmpty: firstLevelEmpty)
            }
            let next = deterministicStep(node, info, level.flags & LevelInfo.plus != 0 ? EdgeTag.none : level.id)
            guard next >= 0 else { return false }
            node = UInt32(truncatingIfNeeded: next)
            info = slots[next].info
            depth &+= 1
        }
    }

    /// The filter's level at `depth` is '#': only a permission '+/#' at `node` can cover it (a '#'
    /// there was seen before), and only when the '#''s parent is no topic (nothing before it, or a
    /// lone empty first level). The same in plain and deterministic tries.
    @inline(__always)
    private func plusHashCovers(_ node: UInt32, _ info: UInt8, _ depth: Int, firstLevelEmpty: Bool) -> Bool {
        guard info & TrieNode.plusChild != 0, depth == 0 || (depth == 1 && firstLevelEmpty) else { return false }
        let edge = child(node, EdgeTag.plus)
        return edge >= 0 && slots[edge].info & hashBit != 0
    }

    /// Does one read permission below `node` cover every topic the rest of the filter can match?
    /// (`TopicFilter.covers`, walked in lockstep: before any '#', one filter level per trie level.)
    func covers(_ node: UInt32, _ info: UInt8, _ depth: Int, firstLevelEmpty: Bool) -> Bool {
        var node = node
        var info = info
        var depth = depth
        while true {
            // A permission '#' here covers whatever follows, except a leading '#' and a "$..." first level.
            if info & hashBit != 0 && (depth != 0 || !dollar) { return true }
            if depth == count { return info & endBit != 0 }
            if info & TrieNode.anyChild == 0 { return false }
            let level = levels[depth]
            if level.flags & LevelInfo.hash != 0 {
                return plusHashCovers(node, info, depth, firstLevelEmpty: firstLevelEmpty)
            }
            if level.flags & LevelInfo.plus != 0 {
                // Only a permission '+' covers the filter's '+'.
                guard info & TrieNode.plusChild != 0 else { return false }
                let edge = child(node, EdgeTag.plus)
                guard edge >= 0 else { return false }
                node = UInt32(truncatingIfNeeded: edge)
                info = slots[edge].info
                depth &+= 1
                continue
            }
            // A literal level of the filter: the same literal, '+', or a %u / %c standing for it.
            var next = -1
            if info & TrieNode.literalChildren != 0 && level.id != EdgeTag.none {
                next = child(node, level.id)
            }
            if info & TrieNode.plusChild != 0 && (depth != 0 || !dollar) {
                let edge = child(node, EdgeTag.plus)
                if next >= 0 && edge >= 0 {
                    if covers(UInt32(truncatingIfNeeded: next), slots[next].info, depth &+ 1, firstLevelEmpty: firstLevelEmpty) { return true }
                }
                if edge >= 0 { next = edge }
            }
            if info & TrieNode.usernameChild != 0 && level.flags & LevelInfo.equalsUsername != 0 {
                let edge = child(node, EdgeTag.username)
                if next >= 0 && edge >= 0 {
                    if covers(UInt32(truncatingIfNeeded: next), slots[next].info, depth &+ 1, firstLevelEmpty: firstLevelEmpty) { return true }
                }
                if edge >= 0 { next = edge }
            }
            if info & TrieNode.clientIdChild != 0 && level.flags & LevelInfo.equalsClientId != 0 {
                let edge = child(node, EdgeTag.clientId)
                if next >= 0 && edge >= 0 {
                    if covers(UInt32(truncatingIfNeeded: next), slots[next].info, depth &+ 1, firstLevelEmpty: firstLevelEmpty) { return true }
                }
                if edge >= 0 { next = edge }
            }
            guard next >= 0 else { return false }
            node = UInt32(truncatingIfNeeded: next)
            info = slots[next].info
            depth &+= 1
        }
    }
}

/// How full the slot tables are laid out: `nodes` nodes per `slots` slots.
struct TrieLoad: Equatable {
    let nodes: Int
    let slots: Int
}

/// Build-time trie of one role: nodes in creation order (a parent before its children), edges
/// deduplicated in a scratch hash table, then laid out as the role's final slot table.
struct TrieScratch {
    var parent: [UInt32] = []
    var tag: [UInt32] = []
    var info: [UInt8] = []
    private var keys: [UInt64] = []
    /// Node id + 0 (0 = empty: the root is no child).
    private var values: [UInt32] = []
    private var mask = 0

    mutating func reset(expectedNodes: Int) {
        parent.removeAll(keepingCapacity: true)
        tag.removeAll(keepingCapacity: true)
        info.removeAll(keepingCapacity: true)
        parent.append(0)
        tag.append(EdgeTag.empty)
        info.append(0)
        var size = 16
        while size < expectedNodes * 2 { size *= 2 }
        if values.count < size {
            keys = Array(repeating: 0, count: size)
            values = Array(repeating: 0, count: size)
        } else {
            for i in 0..<size { values[i] = 0 }
        }
        mask = size - 1
    }

    /// The child of `node` along `tag`, created (and the parent flagged with `kind`) when new.
    mutating func child(of node: Int, tag edge: UInt32, kind: UInt8) -> Int {
        let key = UInt64(node) << 32 | UInt64(edge)
        var i = Int(truncatingIfNeeded: edgeHash(UInt32(node), edge)) & mask
        while values[i] != 0 {
            if keys[i] == key { return Int(values[i]) }
            i = (i + 1) & mask
        }
        let id = parent.count
        precondition(id < Int(UInt32.max / 2), "role trie too large")
        parent.append(UInt32(node))
        tag.append(edge)
        info.append(0)
        info[node] |= kind
        keys[i] = key
        values[i] = UInt32(id)
        return id
    }

    /// The trie built so far.
    var nodes: RoleNodes {
        RoleNodes(parent: parent, tag: tag, info: info, deterministic: false)
    }
}

extension RoleNodes {
    /// Appends this role's table to `slots`: the slot an edge lands in becomes the child's node id.
    /// A probe run that reaches the end of the table goes on into slots appended after it (never
    /// wrapping), and the table ends with an empty slot, so a lookup stops within it.
    func layOut(into slots: inout [TrieSlot], load: TrieLoad, slotOf: inout [UInt32]) -> RoleTrie {
        let rootInfo = deterministic
            ? info[0] | TrieNode.deterministic | (info[1] & TrieNode.literalChildren != 0 ? TrieNode.dollarLiterals : 0)
            : info[0]
        let nodes = edgeCount
        guard nodes > 0 else { return RoleTrie(base: UInt32(slots.count), size: 0, rootInfo: rootInfo) }
        let size = (nodes * load.slots + load.nodes - 1) / load.nodes
        let base = slots.count
        slots.append(contentsOf: repeatElement(TrieSlot.empty, count: size))
        slotOf.removeAll(keepingCapacity: true)
        slotOf.append(TrieNode.root)
        if deterministic { slotOf.append(TrieNode.dollarRoot) }
        for node in roots..<parent.count {
            let parentSlot = slotOf[Int(parent[node])]
            let edge = tag[node]
            var i = base + trieIndex(parentSlot, edge, size: UInt64(size))
            while !slots[i].isEmpty {
                i += 1
                if i == slots.count { slots.append(.empty) }
            }
            slots[i] = TrieSlot(parent: parentSlot, tag: edge, info: info[node])
            slotOf.append(UInt32(i - base))
        }
        if !slots[slots.count - 1].isEmpty { slots.append(.empty) }
        precondition(slots.count < Int(TrieNode.dollarRoot), "tries too large")
        return RoleTrie(base: UInt32(base), size: UInt32(size), rootInfo: rootInfo)
    }
}
