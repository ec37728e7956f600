// The slot layout of the compiled tries: node flags, edge tags, one 8-byte slot per edge, and the
// hash that places an edge in its role's table. CompiledAcl.swift describes the whole layout.

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
    /// that start with '$' (TrieDeterminizer.swift).
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

/// How full the slot tables are laid out: `nodes` nodes per `slots` slots.
struct TrieLoad: Equatable {
    let nodes: Int
    let slots: Int
}
