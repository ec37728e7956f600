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
