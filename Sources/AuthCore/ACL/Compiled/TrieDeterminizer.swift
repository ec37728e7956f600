// A role's trie made deterministic: every node has at most one edge a topic level can take.
//
// In the plain trie a topic level may match both a literal edge and the '+' edge beside it, so a
// walk backtracks, and which way it goes is data the CPU cannot predict (half of a check's time at
// 10⁴ rules went to such mispredicted branches). Here the literal edge x of a node leads to the
// union of what x and '+' lead to in the plain trie, and the '+' edge stands for "any other level".
// A walk then takes one edge per level: x when it exists, else '+', else it is over.
//
// Each node is a set of plain-trie nodes (the subset construction, unfolded as a tree so that a
// slot still *is* the node it leads to). The sets stay small for real policies (1.9× the nodes at
// 10⁴ rules in `make bench`, 2.4× at 10⁵), but crafted ones can grow exponentially: a role whose
// deterministic trie would exceed `limit` nodes keeps its plain trie, as do roles with %u / %c
// edges (they depend on the connection, not on the topic alone).
//
// Roots. '+' and '#' as a filter's first level do not match topics that start with '$', so a
// deterministic trie has two: node 0 for other topics (its literal edges never start with '$') and
// node 1 for '$' topics (only the literal edges that start with '$', no '+' edge, no '#').

/// One role's trie before it is laid out: nodes in creation order (a parent before its children),
/// node 0 the root and, when `deterministic`, node 1 the root for topics starting with '$'.
struct RoleNodes {
    var parent: [UInt32]
    var tag: [UInt32]
    var info: [UInt8]
    var deterministic: Bool

    /// Nodes that are no root: one slot each once laid out.
    var edgeCount: Int { parent.count - roots }
    var roots: Int { deterministic ? 2 : 1 }
}

enum TrieDeterminizer {
    /// All roles' tries (`plain`, in role order), each made deterministic unless it would grow more
    /// than `growth` times (+64 nodes) or has %u / %c edges; nil when they would take `budget` edges
    /// or more in all. The plain tries are counted first, so a large policy costs no attempt.
    static func determinize(_ plain: [RoleNodes], dollarTags: [Set<UInt32>], growth: Int, budget: Int) -> [RoleNodes]? {
        var edges = plain.reduce(0) { $0 + $1.edgeCount }
        guard edges < budget else { return nil }
        var result: [RoleNodes] = []
        result.reserveCapacity(plain.count)
        for (r, role) in plain.enumerated() {
            guard let deterministic = determinize(role, dollarTags: dollarTags[r], limit: role.parent.count * growth + 64) else {
                result.append(role)
                continue
            }
            edges += deterministic.edgeCount - role.edgeCount
            if edges >= budget { return nil }
            result.append(deterministic)
        }
        return result
    }

    /// The deterministic form of `plain` (one role's trie), or nil when the role has %u / %c edges
    /// or its deterministic trie would have more than `limit` nodes (or take too long to build).
    /// `dollarTags`: the first-level literals that start with '$'.
    static func determinize(_ plain: RoleNodes, dollarTags: Set<UInt32>, limit: Int) -> RoleNodes? {
        let n = plain.parent.count
        for info in plain.info where info & (TrieNode.usernameChild | TrieNode.clientIdChild) != 0 { return nil }

        // Each plain node's '+' child, and its literal children (grouped by parent).
        var plus = [Int32](repeating: -1, count: n)
        var first = [Int](repeating: 0, count: n + 1)
        for c in 1..<n where plain.tag[c] != EdgeTag.plus { first[Int(plain.parent[c]) + 1] += 1 }
        for i in 0..<n { first[i + 1] += first[i] }
        var literals = [UInt32](repeating: 0, count: first[n])
        var cursor = first
        for c in 1..<n {
            let p = Int(plain.parent[c])
            if plain.tag[c] == EdgeTag.plus {
                plus[p] = Int32(c)
            } else {
                literals[cursor[p]] = UInt32(c)
                cursor[p] += 1
            }
        }

        var out = RoleNodes(parent: [0, 0], tag: [EdgeTag.empty, EdgeTag.empty], info: [0, 0], deterministic: true)
        // Sets of plain nodes still to expand, as a stack: (node, kind) in `work`, members in `pool`.
        var work: [(node: Int, count: Int, kind: Kind)] = [(1, 1, .dollarRoot), (0, 1, .root)]
        var pool: [UInt32] = [0, 0]
        var set: [UInt32] = []
        var plusSet: [UInt32] = []
        var edges: [(tag: UInt32, child: UInt32)] = []

        // Members of all sets expanded so far: crafted filters ('+' at many levels) can make the sets
        // large even while the nodes stay under `limit`, and the build must stay quick.
        var expanded = 0
        while let item = work.popLast() {
            set.removeAll(keepingCapacity: true)
            set.append(contentsOf: pool[(pool.count - item.count)...])
            pool.removeLast(item.count)
            expanded += item.count
            if expanded > limit * 16 { return nil }

            var info: UInt8 = 0
            plusSet.removeAll(keepingCapacity: true)
            edges.removeAll(keepingCapacity: true)
            for member in set {
                let m = Int(member)
                if item.kind != .dollarRoot {
                    info |= plain.info[m] & (TrieNode.endRead | TrieNode.endWrite | TrieNode.hashRead | TrieNode.hashWrite)
                    if plus[m] >= 0 { plusSet.append(UInt32(plus[m])) }
                }
                for k in first[m]..<first[m + 1] {
                    let child = literals[k]
                    let tag = plain.tag[Int(child)]
                    if item.kind != .inner && dollarTags.contains(tag) != (item.kind == .dollarRoot) { continue }
                    edges.append((tag, child))
                }
            }
            edges.sort { $0.tag < $1.tag }

            var k = 0
            while k < edges.count {
                let tag = edges[k].tag
                let id = out.parent.count
                out.parent.append(UInt32(item.node))
                out.tag.append(tag)
                out.info.append(0)
                var members = 0
                while k < edges.count && edges[k].tag == tag {
                    pool.append(edges[k].child)
                    members += 1
                    k += 1
                }
                pool.append(contentsOf: plusSet)
                work.append((id, members + plusSet.count, .inner))
                info |= TrieNode.literalChildren
            }
            if !plusSet.isEmpty {
                let id = out.parent.count
                out.parent.append(UInt32(item.node))
                out.tag.append(EdgeTag.plus)
                out.info.append(0)
                pool.append(contentsOf: plusSet)
                work.append((id, plusSet.count, .inner))
                info |= TrieNode.plusChild
            }
            out.info[item.node] = info
            if out.parent.count > limit { return nil }
        }
        return out
    }

    /// Which node a set of plain nodes becomes: the roots take only some of their literal edges.
    private enum Kind {
        case inner, root, dollarRoot
    }
}
