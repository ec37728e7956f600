// The snapshot's users as the hot path reads them: one open-addressing table whose slots *are* the
// user records, each holding its name's first word and the trie heads of its first three roles.
// Finding a user and the tries to walk is then one 64-byte slot (plus the name's tail for names
// over 8 bytes). A name → id → record → role ids → trie heads chain was four dependent loads more;
// at 10⁶ rules, where the tries are far larger than the CPU caches, each of them a miss.

import CSystemLibraries

/// Where one role's trie lives in the shared slot array (`CompiledAcl.slots`): its table hashes
/// edges into `size` slots from `base` (0: the role has no edges); the root's flags are here.
struct RoleTrie {
    var base: UInt32
    var size: UInt32
    var rootInfo: UInt8

    static let none = RoleTrie(base: 0, size: 0, rootInfo: 0)
}

/// One user, or an empty slot (`flags == 0`).
struct UserSlot {
    /// The name's first 8 bytes (fewer: zero-padded; `count` tells "ab" from "ab\0").
    var head: UInt64 = 0
    /// High 32 bits of the name's `ByteHash`.
    var tag: UInt32 = 0
    /// In `UserTable.bytes`: the name's bytes after the first 8, then the publish prefix.
    var restOffset: UInt32 = 0
    /// All the user's role tries, from `UserTable.tries[triesOffset]`.
    var triesOffset: UInt32 = 0
    var count: UInt32 = 0
    var prefixCount: UInt32 = 0
    var roleCount: UInt32 = 0
    var flags: UInt8 = 0
    /// The first three of those tries, in the slot (most users have no more roles), as three
    /// columns so that the slot stays within 64 bytes.
    var firstRootInfo: (UInt8, UInt8, UInt8) = (0, 0, 0)
    var firstBase: (UInt32, UInt32, UInt32) = (0, 0, 0)
    var firstSize: (UInt32, UInt32, UInt32) = (0, 0, 0)

    static let used: UInt8 = 0x01
    static let enabled: UInt8 = 0x02

    @inline(__always)
    var isEnabled: Bool { flags & Self.enabled != 0 }
}

/// A user as `UserTable.Builder.add` takes it.
struct UserSource {
    var name: [UInt8]
    var enabled: Bool
    var tries: [RoleTrie]
    var prefix: [UInt8]
}

/// Frozen; owned by `CompiledAcl`, freed with `deallocate()`.
struct UserTable {
    let slots: UnsafeMutableBufferPointer<UserSlot>
    let tries: UnsafeMutableBufferPointer<RoleTrie>
    let bytes: UnsafeMutableBufferPointer<UInt8>
    let mask: Int
    /// Some user has a publish prefix: without one (most policies), the broker's every publish
    /// needs no lookup of its user for a prefix.
    let anyPrefix: Bool

    /// Slots are at most 2/3 full: a miss usually ends within the next cache line.
    static func build(_ users: [UserSource]) -> UserTable {
        var size = 2
        while size * 2 < users.count * 3 { size *= 2 }
        var slots = Array(repeating: UserSlot(), count: size)
        var tries: [RoleTrie] = []
        var bytes: [UInt8] = []
        let mask = size - 1
        for user in users {
            let probe = user.name.withUnsafeBufferPointer { Self.probe($0) }
            var slot = UserSlot(head: probe.head, tag: probe.tag,
                                restOffset: UInt32(bytes.count), triesOffset: UInt32(tries.count),
                                count: UInt32(user.name.count), prefixCount: UInt32(user.prefix.count),
                                roleCount: UInt32(user.tries.count),
                                flags: UserSlot.used | (user.enabled ? UserSlot.enabled : 0))
            if user.name.count > 8 { bytes.append(contentsOf: user.name[8...]) }
            bytes.append(contentsOf: user.prefix)
            let inline = user.tries + Array(repeating: RoleTrie.none, count: max(0, 3 - user.tries.count))
            slot.firstRootInfo = (inline[0].rootInfo, inline[1].rootInfo, inline[2].rootInfo)
            slot.firstBase = (inline[0].base, inline[1].base, inline[2].base)
            slot.firstSize = (inline[0].size, inline[1].size, inline[2].size)
            tries.append(contentsOf: user.tries)
            precondition(bytes.count < Int(UInt32.max) && tries.count < Int(UInt32.max), "user table too large")

            var i = Int(truncatingIfNeeded: probe.hash) & mask
            while slots[i].flags != 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
        return UserTable(slots: Frozen.copy(slots), tries: Frozen.copy(tries), bytes: Frozen.copy(bytes), mask: mask,
                         anyPrefix: users.contains { !$0.prefix.isEmpty })
    }

    var memoryBytes: Int {
        slots.count * MemoryLayout<UserSlot>.stride + tries.count * MemoryLayout<RoleTrie>.stride + bytes.count
    }

    var mappedBytes: Int { Frozen.mappedBytes(slots) + Frozen.mappedBytes(tries) + Frozen.mappedBytes(bytes) }

    func deallocate() {
        Frozen.free(slots)
        Frozen.free(tries)
        Frozen.free(bytes)
    }

    /// Where the search for a name starts: its hash and first word.
    struct Probe {
        let hash: UInt64
        let head: UInt64

        /// What a slot keeps of the hash (`UserSlot.tag`).
        @inline(__always)
        var tag: UInt32 { UInt32(truncatingIfNeeded: hash &>> 32) }
    }

    @inline(__always)
    static func probe(_ name: UnsafeBufferPointer<UInt8>) -> Probe {
        Probe(hash: ByteHash.hash(name.baseAddress, name.count), head: ByteHash.head(name.baseAddress, name.count))
    }

    /// Asks for the slot where the search for `probe` starts, so that work done before `find` hides its miss.
    @inline(__always)
    func prefetch(_ probe: Probe) {
        cwauth_prefetch(slots.baseAddress.unsafelyUnwrapped + (Int(truncatingIfNeeded: probe.hash) & mask))
    }

    /// The user named by the bytes, or nil.
    @inline(__always)
    func find(_ name: UnsafeBufferPointer<UInt8>) -> UnsafePointer<UserSlot>? {
        find(name, Self.probe(name))
    }

    /// `find(name)` with the name's probe already worked out.
    @inline(__always)
    func find(_ name: UnsafeBufferPointer<UInt8>, _ probe: Probe) -> UnsafePointer<UserSlot>? {
        let count = name.count
        let head = probe.head
        let tag = probe.tag
        let base = UnsafePointer(slots.baseAddress.unsafelyUnwrapped)
        var i = Int(truncatingIfNeeded: probe.hash) & mask
        while true {
            let slot = base + i
            if slot.pointee.flags == 0 { return nil }
            if slot.pointee.tag == tag && slot.pointee.head == head && Int(truncatingIfNeeded: slot.pointee.count) == count
                && (count <= 8 || ByteCompare.equal(bytes.baseAddress.unsafelyUnwrapped + Int(truncatingIfNeeded: slot.pointee.restOffset),
                                                    name.baseAddress.unsafelyUnwrapped + 8, count &- 8)) {
                return slot
            }
            i = (i &+ 1) & mask
        }
    }

    /// The trie of the user's role number `r` (0 ..< roleCount).
    @inline(__always)
    func trie(_ user: UnsafePointer<UserSlot>, _ r: Int) -> RoleTrie {
        let slot = user.pointee
        switch r {
        case 0: return RoleTrie(base: slot.firstBase.0, size: slot.firstSize.0, rootInfo: slot.firstRootInfo.0)
        case 1: return RoleTrie(base: slot.firstBase.1, size: slot.firstSize.1, rootInfo: slot.firstRootInfo.1)
        case 2: return RoleTrie(base: slot.firstBase.2, size: slot.firstSize.2, rootInfo: slot.firstRootInfo.2)
        default: return tries[Int(truncatingIfNeeded: user.pointee.triesOffset) &+ r]
        }
    }

    /// The user's publish prefix (empty: none). Points into this table: valid while its owner is held.
    @inline(__always)
    func prefix(_ user: UnsafePointer<UserSlot>) -> UnsafeBufferPointer<UInt8> {
        guard user.pointee.prefixCount > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
        let nameRest = max(Int(truncatingIfNeeded: user.pointee.count) &- 8, 0)
        return UnsafeBufferPointer(start: bytes.baseAddress.unsafelyUnwrapped + (Int(truncatingIfNeeded: user.pointee.restOffset) &+ nameRest),
                                   count: Int(truncatingIfNeeded: user.pointee.prefixCount))
    }
}
