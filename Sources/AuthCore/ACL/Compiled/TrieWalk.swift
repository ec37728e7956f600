import CSystemLibraries

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

    /// Does a permission of the current role match the topic (read / write)?
    @inline(__always)
    func matches(_ rootInfo: UInt8) -> Bool {
        rootInfo & TrieNode.deterministic != 0 ? matchesDeterministic(rootInfo) : walkPlain(TrieNode.root, rootInfo, 0, firstLevelEmpty: false)
    }

    /// Does one read permission of the current role cover every topic the filter can match (SUBSCRIBE)?
    @inline(__always)
    func covers(_ rootInfo: UInt8, firstLevelEmpty: Bool) -> Bool {
        rootInfo & TrieNode.deterministic != 0 ? coversDeterministic(rootInfo, firstLevelEmpty: firstLevelEmpty)
            : walkPlain(TrieNode.root, rootInfo, 0, firstLevelEmpty: firstLevelEmpty)
    }

    /// A plain trie's walk below `node` (at `depth` levels), for a topic (`matches`) and a filter
    /// (`covers`, `TopicFilter.covers` walked in lockstep: before any '#', one filter level per trie
    /// level) alike: a topic's levels are all literal, and a literal level of either takes the same
    /// edges. Loops along one candidate edge and recurses only where several match the same level.
    private func walkPlain(_ node: UInt32, _ info: UInt8, _ depth: Int, firstLevelEmpty: Bool) -> Bool {
        var node = node
        var info = info
        var depth = depth
        while true {
            // A permission '#' here matches whatever follows, except a leading '#' and a "$..." first level.
            if info & hashBit != 0 && (depth != 0 || !dollar) { return true }
            if depth == count { return info & endBit != 0 }
            if info & TrieNode.anyChild == 0 { return false }
            // A node with children is shallower than maxDepth, so this level is described.
            let level = levels[depth]
            var next: Int
            if level.flags & (LevelInfo.plus | LevelInfo.hash) == 0 {
                next = step(node, info, level, depth, firstLevelEmpty: firstLevelEmpty)
                if next == Self.matched { return true }
            } else if level.flags & LevelInfo.hash != 0 {
                return plusHashCovers(node, info, depth, firstLevelEmpty: firstLevelEmpty)
            } else {
                // Only a permission '+' covers the filter's '+'.
                next = info & TrieNode.plusChild != 0 ? child(node, EdgeTag.plus) : -1
            }
            guard next >= 0 else { return false }
            node = UInt32(truncatingIfNeeded: next)
            info = slots[next].info
            depth &+= 1
        }
    }

    /// `step`'s answer when the walk below an edge it tried succeeded.
    private static let matched = -2

    /// The edges of a plain trie's `node` that a literal level can take: its own literal, '+', and
    /// %u / %c when the level is the username / client id. The walk goes on below every edge but the
    /// last one found at once; the last is returned for the caller's loop to follow. Returns -1 when
    /// no edge matches, `matched` when the walk below an earlier edge succeeded.
    @inline(__always)
    private func step(_ node: UInt32, _ info: UInt8, _ level: LevelInfo, _ depth: Int, firstLevelEmpty: Bool) -> Int {
        var next = -1
        if info & TrieNode.literalChildren != 0 && level.id != EdgeTag.none {
            next = child(node, level.id)
        }
        if info & TrieNode.plusChild != 0 && (depth != 0 || !dollar) {
            next = alternative(next, child(node, EdgeTag.plus), depth, firstLevelEmpty)
            if next == Self.matched { return next }
        }
        if info & TrieNode.usernameChild != 0 && level.flags & LevelInfo.equalsUsername != 0 {
            next = alternative(next, child(node, EdgeTag.username), depth, firstLevelEmpty)
            if next == Self.matched { return next }
        }
        if info & TrieNode.clientIdChild != 0 && level.flags & LevelInfo.equalsClientId != 0 {
            next = alternative(next, child(node, EdgeTag.clientId), depth, firstLevelEmpty)
        }
        return next
    }

    /// `edge` (when there is one) becomes the candidate to follow, once the walk below the one found
    /// before it has failed.
    @inline(__always)
    private func alternative(_ next: Int, _ edge: Int, _ depth: Int, _ firstLevelEmpty: Bool) -> Int {
        guard edge >= 0 else { return next }
        if next >= 0 && walkPlain(UInt32(truncatingIfNeeded: next), slots[next].info, depth &+ 1, firstLevelEmpty: firstLevelEmpty) {
            return Self.matched
        }
        return edge
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

    /// `matches` on a deterministic trie (TrieDeterminizer.swift): one edge per level, no backtracking.
    /// A '#' met on the way matches whatever follows, so the walk ends there; the '$' root has none.
    @inline(__always)
    private func matchesDeterministic(_ rootInfo: UInt8) -> Bool {
        var (node, info) = deterministicRoot(rootInfo)
        var depth = 0
        // A node with children is shallower than maxDepth, so this level is described.
        while info & hashBit == 0 {
            guard depth < count && info & TrieNode.deterministicChildren != 0 else { break }
            let next = deterministicStep(node, info, levels[depth].id)
            guard next >= 0 else { return false }
            node = UInt32(truncatingIfNeeded: next)
            info = slots[next].info
            depth &+= 1
        }
        return info & hashBit != 0 || (depth == count && info & endBit != 0)
    }

    /// `covers` on a deterministic trie: a literal level of the filter takes its literal edge (which
    /// includes what '+' leads to) or else '+'; a '+' of the filter only '+'.
    private func coversDeterministic(_ rootInfo: UInt8, firstLevelEmpty: Bool) -> Bool {
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
}
