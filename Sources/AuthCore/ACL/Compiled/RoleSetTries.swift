// One trie per distinct set of roles that users hold together.
//
// A check walks the trie of each of the user's roles until one allows, so a user with three roles
// costs three walks, and a denied check always all of them (measured at 10⁴ rules: 91 ns for users
// with one role, 111 with two, 126 with three). The union of a user's roles is itself a role (one
// permission of any of them decides), so users who hold more than one role get one trie holding the
// permissions of all of them, made deterministic like a role's (TrieDeterminizer.swift): one walk,
// one edge per level.
//
// Roles are shared: users with the same set share its trie, and a set's trie costs about the sum of
// its roles' tries. That is memory on top of the roles' own, so sets get tries only while the
// policy's tries are deterministic at all (small enough for the CPU caches) and within `budget`
// edges in all, sets held by more users first, and stop being tried once the nodes merged reach a
// few times that budget. Users of other sets walk their roles' tries as before.

enum RoleSetTries {
    /// Appends the tries of the role sets of `users` to `nodes` (whose first `plain.count` entries
    /// are the roles' tries) and returns, for each user in order, where their set's trie is (nil:
    /// the user walks their roles' tries). `plain`: the roles' plain tries; `budget`: edges all
    /// tries may have together.
    static func build(users: [UserEntry], plain: [RoleNodes], dollarTags: [Set<UInt32>], into nodes: inout [RoleNodes],
                      scratch: inout TrieScratch, growth: Int, budget: Int) -> [Int?] {
        // Each user's set of roles (sorted, without repeats; nil for fewer than two), and how many hold each.
        let userSets: [[Int]?] = users.map { user in
            let set = Array(Set(user.roleIDs)).sorted()
            return set.count > 1 ? set : nil
        }
        var holders: [[Int]: Int] = [:]
        for case let set? in userSets { holders[set, default: 0] += 1 }
        let sets = holders.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.lexicographicallyPrecedes($1.key) }
        var edges = nodes.reduce(0) { $0 + $1.edgeCount }
        var placed: [[Int]: Int] = [:]
        // Nodes merged so far, placed or not: many users with many distinct sets must not make the
        // snapshot build slow, so the work stays within a few times the budget.
        var work = 0
        for (set, _) in sets {
            // Edges only grow: once the tries reach the budget, no later set can be placed.
            if edges >= budget { break }
            let expected = set.reduce(1) { $0 + plain[$1].parent.count }
            work += expected
            if work > budget * 4 { break }
            scratch.reset(expectedNodes: expected)
            var tags = Set<UInt32>()
            for role in set {
                scratch.merge(plain[role])
                tags.formUnion(dollarTags[role])
            }
            let union = scratch.nodes
            // A deterministic trie has at least the edges of its plain one (for real policies about
            // twice): a set that cannot fit is not made deterministic only to be dropped.
            guard edges + union.edgeCount < budget else { continue }
            guard let deterministic = TrieDeterminizer.determinize(union, dollarTags: tags, limit: union.parent.count * growth + 64)
            else { continue }
            guard edges + deterministic.edgeCount < budget else { continue }
            edges += deterministic.edgeCount
            placed[set] = nodes.count
            nodes.append(deterministic)
        }
        return userSets.map { $0.flatMap { placed[$0] } }
    }
}

extension TrieScratch {
    /// Adds the nodes of `role` (a plain trie) to the trie being built: it then also holds that
    /// role's permissions. A merged node has the children of each node merged into it, so it takes
    /// their flags whole (permissions and kinds of child edges alike).
    mutating func merge(_ role: RoleNodes) {
        var mapped = [Int](repeating: 0, count: role.parent.count)
        for node in 1..<role.parent.count {
            mapped[node] = child(of: mapped[Int(role.parent[node])], tag: role.tag[node], kind: 0)
        }
        for node in 0..<role.parent.count {
            info[mapped[node]] |= role.info[node]
        }
    }
}
