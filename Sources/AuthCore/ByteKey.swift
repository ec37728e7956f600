// Byte-keyed lookups for the ACL hot path: hashing and comparing raw UTF-8 slices, a virtual
// "prefix + topic" byte sequence, and a frozen open-addressing table from byte strings to dense
// ids. Nothing here allocates once built, and nothing ever turns bytes into a String: MQTT compares
// topics and usernames as bytes (see Topic.swift's header on why String == is not that).

#if canImport(Glibc)
import Glibc
#endif

/// A hash of byte strings. Word-at-a-time over contiguous bytes; the byte-at-a-time variant for
/// a level that straddles the publish prefix and the topic gives the same value for the same bytes.
enum ByteHash {
    static let seed: UInt64 = 0x243F_6A88_85A3_08D3
    static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    @inline(__always)
    static func mix(_ h: UInt64, _ word: UInt64) -> UInt64 {
        let x = (h ^ word) &* multiplier
        return x ^ (x &>> 32)
    }

    @inline(__always)
    static func finish(_ h: UInt64, count: Int) -> UInt64 {
        var x = h ^ UInt64(truncatingIfNeeded: count)
        x ^= x &>> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x &>> 29
        return x
    }

    /// Little-endian 8-byte words; the last partial word zero-padded; the length mixed in last.
    @inline(__always)
    static func hash(_ base: UnsafePointer<UInt8>?, _ count: Int) -> UInt64 {
        guard count > 0, let base else { return finish(seed, count: 0) }
        let raw = UnsafeRawPointer(base)
        var h = seed
        var i = 0
        while count &- i >= 8 {
            h = mix(h, UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i &+= 8
        }
        let rest = count &- i
        if rest > 0 {
            var word: UInt64 = 0
            if count >= 8 {
                // The last 8 bytes, shifted so that only the `rest` unread ones remain.
                word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
                    &>> UInt64(8 &* (8 &- rest))
            } else {
                for j in 0..<rest { word |= UInt64(base[i &+ j]) &<< UInt64(8 &* j) }
            }
            h = mix(h, word)
        }
        return finish(h, count: count)
    }

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        hash(bytes.baseAddress, bytes.count)
    }

    /// The first 8 bytes (fewer: zero-padded), little-endian: what `ByteKeyTable` compares first.
    @inline(__always)
    static func head(_ base: UnsafePointer<UInt8>?, _ count: Int) -> UInt64 {
        guard count > 0, let base else { return 0 }
        if count >= 8 { return UInt64(littleEndian: UnsafeRawPointer(base).loadUnaligned(as: UInt64.self)) }
        var word: UInt64 = 0
        for j in 0..<count { word |= UInt64(base[j]) &<< UInt64(8 &* j) }
        return word
    }

    /// `hash` and `head` of the slice `base[start..<end]` of the buffer `base[0..<count]`. A slice
    /// shorter than a word is read as one word of the enclosing buffer (a topic's levels are mostly
    /// short), so only a buffer shorter than 8 bytes is read byte by byte.
    @inline(__always)
    static func hashAndHead(slice base: UnsafePointer<UInt8>, from start: Int, to end: Int, count: Int) -> (hash: UInt64, head: UInt64) {
        let length = end &- start
        let raw = UnsafeRawPointer(base)
        if length >= 8 {
            return (hash(base + start, length), UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt64.self)))
        }
        if length == 0 { return (finish(seed, count: 0), 0) }
        let word: UInt64
        if count &- start >= 8 {
            word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt64.self))
                & (UInt64.max &>> UInt64(8 &* (8 &- length)))
        } else if end >= 8 {
            word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: end &- 8, as: UInt64.self))
                &>> UInt64(8 &* (8 &- length))
        } else {
            word = head(base + start, length)
        }
        return (finish(mix(seed, word), count: length), word)
    }

    /// Same value as `hash` for the bytes `seq[start..<end]`, fetched one at a time.
    static func hash(_ seq: ByteSeq, from start: Int, to end: Int) -> UInt64 {
        var h = seed
        var i = start
        while i < end {
            var word: UInt64 = 0
            var j = 0
            while j < 8 && i < end {
                word |= UInt64(seq[i]) &<< UInt64(8 &* j)
                j &+= 1
                i &+= 1
            }
            h = mix(h, word)
        }
        return finish(h, count: end &- start)
    }
}

/// Word-at-a-time search for the bytes that end or invalidate a topic level.
enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Index of the first byte below 0x30 at or after `start` in `base[0..<count]`, or `count`.
    /// '/', '+', '#' and NUL are all below 0x30, so a topic is split and validated by stopping only
    /// there (other stops, such as '-' or '.', are stepped over by the caller).
    @inline(__always)
    static func firstBelow0x30(_ base: UnsafePointer<UInt8>, from start: Int, count: Int) -> Int {
        let raw = UnsafeRawPointer(base)
        var i = start
        while count &- i >= 8 {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            // High bit set in each byte below 0x30 (bytes ≥ 0x80 excluded by ~word). A borrow can
            // only flag bytes after a true one, so the lowest flagged byte is exact.
            let below = (word &- ones &* 0x30) & ~word & highBits
            if below != 0 { return i &+ below.trailingZeroBitCount &>> 3 }
            i &+= 8
        }
        while i < count {
            if base[i] < 0x30 { return i }
            i &+= 1
        }
        return count
    }
}

/// Equality of byte slices.
enum ByteCompare {
    /// Inline word compares: the keys compared on the hot path (levels, usernames) are short, where
    /// a call to memcmp costs more than the comparison.
    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>?, _ b: UnsafePointer<UInt8>?, _ count: Int) -> Bool {
        guard count > 0 else { return true }
        guard let a, let b else { return false }
        guard count >= 8 else {
            for i in 0..<count where a[i] != b[i] { return false }
            return true
        }
        let ra = UnsafeRawPointer(a)
        let rb = UnsafeRawPointer(b)
        var i = 0
        while count &- i > 8 {
            if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i &+= 8
        }
        // The last 8 bytes (overlapping what was compared already).
        return ra.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self) == rb.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
    }

    @inline(__always)
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && equal(a.baseAddress, b.baseAddress, a.count)
    }

    /// Whether a username / client id can be substituted for %u / %c: exactly one non-empty level
    /// (byte twin of `TopicSyntax.canStandAsOneLevel`).
    static func canStandAsOneLevel(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !value.isEmpty else { return false }
        for byte in value where byte <= TopicSyntax.slash {
            if byte == TopicSyntax.slash || byte == TopicSyntax.plus || byte == TopicSyntax.hash || byte == TopicSyntax.nul {
                return false
            }
        }
        return true
    }
}

/// Two buffers read as one byte sequence: the user's publish prefix followed by the topic, so that
/// a publish is checked as `prefix + topic` without building that string.
struct ByteSeq {
    let first: UnsafeBufferPointer<UInt8>
    let second: UnsafeBufferPointer<UInt8>

    @inline(__always)
    init(_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) {
        self.first = first
        self.second = second
    }

    @inline(__always)
    var count: Int { first.count &+ second.count }

    /// Unchecked: callers stay within 0..<count.
    @inline(__always)
    subscript(_ i: Int) -> UInt8 {
        i < first.count ? first.baseAddress.unsafelyUnwrapped[i] : second.baseAddress.unsafelyUnwrapped[i &- first.count]
    }

    /// The bytes start..<end as one pointer when they lie in one buffer (nil when they straddle
    /// the boundary; any pointer, possibly nil, for an empty range).
    @inline(__always)
    func contiguous(from start: Int, to end: Int) -> (straddles: Bool, base: UnsafePointer<UInt8>?) {
        if end <= first.count { return (false, first.baseAddress.map { $0 + start }) }
        if start >= first.count { return (false, second.baseAddress.map { $0 + (start &- first.count) }) }
        return (true, nil)
    }

    /// Do the bytes start..<end equal `other`?
    @inline(__always)
    func equals(from start: Int, to end: Int, _ other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard end &- start == other.count else { return false }
        let (straddles, base) = contiguous(from: start, to: end)
        if !straddles { return ByteCompare.equal(base, other.baseAddress, other.count) }
        var j = 0
        for i in start..<end {
            if self[i] != other[j] { return false }
            j &+= 1
        }
        return true
    }
}

/// Where a byte string lives in an arena.
struct ByteSpan {
    var offset: Int
    var count: Int
}

/// A key of a frozen `ByteKeyTable`: where its bytes are, and its first word, so that a key of at
/// most 8 bytes (most topic levels) is compared without reading the arena.
struct FrozenKey {
    var offset: UInt32
    var count: UInt32
    var head: UInt64
}

/// Builds a set of byte strings with dense ids in insertion order (used while a snapshot is built).
struct ByteKeyTableBuilder {
    private(set) var bytes: [UInt8] = []
    private(set) var spans: [ByteSpan] = []
    private var hashes: [UInt64] = []
    /// id + 1, 0 = empty.
    private var table: [UInt32] = Array(repeating: 0, count: 16)

    var count: Int { spans.count }

    /// The id of `key`, adding it when new.
    mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let h = ByteHash.hash(key)
        let mask = table.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let entry = table[i]
            if entry == 0 { break }
            let id = Int(entry - 1)
            if hashes[id] == h {
                let span = spans[id]
                let same = span.count == key.count && bytes.withUnsafeBufferPointer {
                    ByteCompare.equal($0.baseAddress.map { $0 + span.offset }, key.baseAddress, key.count)
                }
                if same { return UInt32(id) }
            }
            i = (i + 1) & mask
        }
        let id = spans.count
        precondition(id < Int(UInt32.max - 8), "too many distinct byte strings")
        spans.append(ByteSpan(offset: bytes.count, count: key.count))
        hashes.append(h)
        bytes.append(contentsOf: key)
        table[i] = UInt32(id + 1)
        if spans.count * 3 > table.count * 2 { grow() }
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
    func freeze() -> ByteKeyTable {
        // At most half full, so misses stop early.
        var size = 2
        while size < spans.count * 2 { size *= 2 }
        var entries = [UInt64](repeating: 0, count: size)
        let mask = size - 1
        for (id, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while entries[i] != 0 { i = (i + 1) & mask }
            entries[i] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(id + 1)
        }
        precondition(bytes.count < Int(UInt32.max), "byte strings too large")
        let keys = bytes.withUnsafeBufferPointer { arena in
            spans.map { span in
                FrozenKey(offset: UInt32(span.offset), count: UInt32(span.count),
                          head: ByteHash.head(arena.baseAddress.map { $0 + span.offset }, span.count))
            }
        }
        return ByteKeyTable(bytes: Frozen.copy(bytes), keys: Frozen.copy(keys), entries: Frozen.copy(entries), mask: mask)
    }
}

/// A frozen byte-string → id table: open addressing, linear probing, at most half full. Each entry
/// is the high 32 bits of the key's hash and id + 1 (0 = empty), so most misses never touch the bytes.
struct ByteKeyTable {
    let bytes: UnsafeMutableBufferPointer<UInt8>
    let keys: UnsafeMutableBufferPointer<FrozenKey>
    let entries: UnsafeMutableBufferPointer<UInt64>
    let mask: Int

    var count: Int { keys.count }

    var memoryBytes: Int {
        bytes.count + keys.count * MemoryLayout<FrozenKey>.stride + entries.count * MemoryLayout<UInt64>.stride
    }

    func deallocate() {
        Frozen.free(bytes)
        Frozen.free(keys)
        Frozen.free(entries)
    }

    @inline(__always)
    func key(_ id: Int) -> UnsafeBufferPointer<UInt8> {
        let key = keys[id]
        return UnsafeBufferPointer(start: bytes.baseAddress.unsafelyUnwrapped + Int(key.offset), count: Int(key.count))
    }

    /// The id of the contiguous bytes `base[0..<count]`, or -1.
    @inline(__always)
    func find(_ base: UnsafePointer<UInt8>?, _ count: Int) -> Int {
        find(base, count, hash: ByteHash.hash(base, count), head: ByteHash.head(base, count))
    }

    /// The id of the contiguous bytes `base[0..<count]` with the given `ByteHash` hash and head, or -1.
    @inline(__always)
    func find(_ base: UnsafePointer<UInt8>?, _ count: Int, hash h: UInt64, head: UInt64) -> Int {
        let entries = self.entries.baseAddress.unsafelyUnwrapped
        let keys = self.keys.baseAddress.unsafelyUnwrapped
        let arena = UnsafePointer(bytes.baseAddress.unsafelyUnwrapped)
        let tag = h & 0xFFFF_FFFF_0000_0000
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let entry = entries[i]
            if entry == 0 { return -1 }
            if entry & 0xFFFF_FFFF_0000_0000 == tag {
                let id = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) &- 1
                let key = keys[id]
                if Int(truncatingIfNeeded: key.count) == count && key.head == head
                    && (count <= 8 || ByteCompare.equal(arena + (Int(truncatingIfNeeded: key.offset) &+ 8),
                                                        base.unsafelyUnwrapped + 8, count &- 8)) {
                    return id
                }
            }
            i = (i &+ 1) & mask
        }
    }

    /// The id of `seq[start..<end]`, or -1.
    @inline(__always)
    func find(_ seq: ByteSeq, from start: Int, to end: Int) -> Int {
        let (straddles, base) = seq.contiguous(from: start, to: end)
        if !straddles { return find(base, end &- start) }
        let h = ByteHash.hash(seq, from: start, to: end)
        let tag = h & 0xFFFF_FFFF_0000_0000
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let entry = entries[i]
            if entry == 0 { return -1 }
            if entry & 0xFFFF_FFFF_0000_0000 == tag {
                let id = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) &- 1
                if seq.equals(from: start, to: end, key(id)) { return id }
            }
            i = (i &+ 1) & mask
        }
    }
}

/// Raw copies of build-time arrays of plain values, freed by their owner with `free`.
enum Frozen {
    /// A copy this large is aligned to, and asks the kernel to back it with, 2 MB pages. A check
    /// touches a few random slots of tries that reach tens of MB; with 4 KB pages each touch would
    /// also miss the TLB and walk the page tables.
    static let hugePageBytes = 2 << 20

    static func copy<T>(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
        let bytes = max(array.count, 1) * MemoryLayout<T>.stride
        var raw: UnsafeMutableRawPointer?
        if bytes >= hugePageBytes {
            let rounded = (bytes + hugePageBytes - 1) / hugePageBytes * hugePageBytes
            if posix_memalign(&raw, hugePageBytes, rounded) == 0, let raw {
                _ = madvise(raw, rounded, MADV_HUGEPAGE)  // a hint: without it, 4 KB pages
            }
        } else {
            raw = malloc(bytes)
        }
        guard let raw else { fatalError("cwauth: out of memory (\(bytes) bytes for the compiled policy)") }
        let buffer = UnsafeMutableBufferPointer(start: raw.bindMemory(to: T.self, capacity: max(array.count, 1)), count: array.count)
        _ = buffer.initialize(fromContentsOf: array)
        return buffer
    }

    static func free<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
        Glibc.free(buffer.baseAddress)
    }
}
