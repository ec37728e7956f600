// The distinct literal topic levels of a policy, numbered: an edge of the compiled tries is labelled
// with a level's id, so a check turns each level of its topic into an id once (one probe here) and
// then compares ids only.
//
// A level of at most 16 bytes (nearly all of them: "factory", "line3", "temperature") is its own
// key: its bytes, zero-padded to two words, hashed with two multiplications and compared without
// leaving the entry. Longer levels are hashed with `ByteHash` and compared in full. The length is
// compared too, so the padding never makes two levels equal.

/// One entry of the frozen table.
struct LevelEntry {
    /// The level's first 16 bytes, zero-padded: the whole level when it has at most 16.
    var head: UInt64
    var tail: UInt64
    var id: UInt32
    /// Bytes in the level; `vacant` marks an empty entry.
    var count: UInt32

    static let vacant: UInt32 = .max
}

/// Collects the distinct levels while a snapshot is built, with dense ids in insertion order.
struct LevelTableBuilder {
    private var bytes: [UInt8] = []
    private var offsets: [Int] = []
    private var counts: [Int] = []
    /// id + 1, 0 = empty; keyed by `ByteHash`.
    private var table: [UInt32] = Array(repeating: 0, count: 16)
    private var hashes: [UInt64] = []

    var count: Int { offsets.count }

    /// The id of `key`, adding it when new.
    mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let h = ByteHash.hash(key)
        let mask = table.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while table[i] != 0 {
            let id = Int(table[i] - 1)
            if hashes[id] == h && counts[id] == key.count && bytes.withUnsafeBufferPointer({
                ByteCompare.equal($0.baseAddress.map { $0 + offsets[id] }, key.baseAddress, key.count)
            }) {
                return UInt32(id)
            }
            i = (i + 1) & mask
        }
        let id = offsets.count
        precondition(id < Int(UInt32.max - 8), "too many distinct topic levels")
        offsets.append(bytes.count)
        counts.append(key.count)
        hashes.append(h)
        bytes.append(contentsOf: key)
        table[i] = UInt32(id + 1)
        if offsets.count * 3 > table.count * 2 { grow() }
        return UInt32(id)
    }

    mutating func intern(_ text: String) -> UInt32 {
        var copy = text
        return copy.withUTF8 { intern($0) }
    }

    private mutating func grow() {
        table = Array(repeating: 0, count: table.count * 2)
        let mask = table.count - 1
        for (id, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = UInt32(id + 1)
        }
    }

    /// The read-only form (owned by the caller, freed with `deallocate()`).
    func freeze() -> LevelTable {
        // At most a quarter full: a level is nearly always in the entry it hashes to (policies have
        // few distinct levels; 884 at 10⁶ rules in `make bench`).
        var size = 2
        while size < offsets.count * 4 { size *= 2 }
        let shift = UInt64(64 - size.trailingZeroBitCount)
        var entries = [LevelEntry](repeating: LevelEntry(head: 0, tail: 0, id: 0, count: LevelEntry.vacant), count: size)
        precondition(bytes.count < Int(UInt32.max), "topic levels too large")
        bytes.withUnsafeBufferPointer { arena in
            for id in 0..<offsets.count {
                let start = arena.baseAddress.map { $0 + offsets[id] }
                let (head, tail) = LevelTable.words(start, counts[id])
                var i = LevelTable.index(LevelTable.key(head: head, tail: tail, start, counts[id]), shift: shift)
                while entries[i].count != LevelEntry.vacant { i = (i + 1) & (size - 1) }
                entries[i] = LevelEntry(head: head, tail: tail, id: UInt32(id), count: UInt32(counts[id]))
            }
        }
        return LevelTable(bytes: Frozen.copy(bytes), offsets: Frozen.copy(offsets.map { UInt32($0) }),
                          entries: Frozen.copy(entries), mask: size - 1, shift: shift)
    }
}

/// Frozen level → id table: open addressing, linear probing, at most a quarter full.
struct LevelTable {
    let bytes: UnsafeMutableBufferPointer<UInt8>
    /// Where each level's bytes start in `bytes` (read only for levels over 16 bytes).
    let offsets: UnsafeMutableBufferPointer<UInt32>
    let entries: UnsafeMutableBufferPointer<LevelEntry>
    let mask: Int
    /// 64 − log2(entries): `index` keeps the top bits of the product.
    let shift: UInt64

    var count: Int { offsets.count }

    var memoryBytes: Int {
        bytes.count + offsets.count * MemoryLayout<UInt32>.stride + entries.count * MemoryLayout<LevelEntry>.stride
    }

    var mappedBytes: Int { Frozen.mappedBytes(bytes) + Frozen.mappedBytes(offsets) + Frozen.mappedBytes(entries) }

    func deallocate() {
        Frozen.free(bytes)
        Frozen.free(offsets)
        Frozen.free(entries)
    }

    /// What a level is hashed by: its two words when they are all of it, else the `ByteHash` of its bytes.
    @inline(__always)
    static func key(head: UInt64, tail: UInt64, _ base: UnsafePointer<UInt8>?, _ count: Int) -> UInt64 {
        count <= 16 ? head &+ tail &* 0xC4CE_B9FE_1A85_EC53 : ByteHash.hash(base, count)
    }

    @inline(__always)
    static func index(_ key: UInt64, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* ByteHash.multiplier) &>> shift)
    }

    /// A level's first two words, zero-padded: all of its key when it has at most 16 bytes.
    @inline(__always)
    static func words(_ base: UnsafePointer<UInt8>?, _ count: Int) -> (head: UInt64, tail: UInt64) {
        (ByteHash.head(base, count), ByteHash.head(base.map { $0 + 8 }, count &- 8))
    }

    /// The id of the level `base[0..<count]` whose first two words (zero-padded) are `head` and
    /// `tail`, or `EdgeTag.none`.
    @inline(__always)
    func find(head: UInt64, tail: UInt64, _ base: UnsafePointer<UInt8>?, _ count: Int) -> UInt32 {
        probe(Self.key(head: head, tail: tail, base, count), head: head, tail: tail, count: count) { rest in
            ByteCompare.equal(rest, base.unsafelyUnwrapped + 16, count &- 16)
        }
    }

    /// The search of `find`, from the entry `key` hashes to. `restEquals` compares a
    /// candidate's bytes after its first 16 (asked only for levels longer than that).
    @inline(__always)
    private func probe(_ key: UInt64, head: UInt64, tail: UInt64, count: Int,
                       restEquals: (UnsafePointer<UInt8>) -> Bool) -> UInt32 {
        let entries = self.entries.baseAddress.unsafelyUnwrapped
        let want = UInt32(truncatingIfNeeded: count)
        var i = Self.index(key, shift: shift)
        while true {
            let entry = entries[i]
            if entry.head == head && entry.tail == tail && entry.count == want && (count <= 16 || restEquals(rest(of: entry.id))) {
                return entry.id
            }
            if entry.count == LevelEntry.vacant { return EdgeTag.none }
            i = (i &+ 1) & mask
        }
    }

    /// The bytes of level `id` after its first 16.
    @inline(__always)
    private func rest(of id: UInt32) -> UnsafePointer<UInt8> {
        UnsafePointer(bytes.baseAddress.unsafelyUnwrapped) + (Int(truncatingIfNeeded: offsets[Int(truncatingIfNeeded: id)]) &+ 16)
    }
}
