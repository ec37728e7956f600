// Byte-level tools for the ACL hot path: hashing, scanning and comparing raw UTF-8 slices, a
// virtual "prefix + topic" byte sequence, and frozen raw copies of build-time arrays. Nothing here
// allocates, and nothing ever turns bytes into a String: MQTT compares topics and usernames as
// bytes (see Topic.swift's header on why String == is not that).

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
            // The last 8 bytes, shifted so that only the `rest` unread ones remain (or all of a short key).
            h = mix(h, count >= 8 ? UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
                &>> UInt64(8 &* (8 &- rest)) : head(base, rest))
        }
        return finish(h, count: count)
    }

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        hash(bytes.baseAddress, bytes.count)
    }

    /// The first 8 bytes (fewer: zero-padded), little-endian: what the level and user tables compare first.
    @inline(__always)
    static func head(_ base: UnsafePointer<UInt8>?, _ count: Int) -> UInt64 {
        guard count > 0, let base else { return 0 }
        let raw = UnsafeRawPointer(base)
        if count >= 8 { return UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) }
        if count >= 4 {
            // Two overlapping 4-byte loads (no read past the bytes): usernames are often 4–7 bytes.
            let low = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)))
            return low | high &<< UInt64(8 &* (count &- 4))
        }
        return UInt64(base[0]) | UInt64(base[count &>> 1]) &<< UInt64(8 &* (count &>> 1))
            | UInt64(base[count &- 1]) &<< UInt64(8 &* (count &- 1))
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

    /// High bit set in each byte of `word` below 0x30 ('/', '+', '#', NUL, and a few punctuation
    /// bytes), bytes ≥ 0x80 excluded. A borrow can only flag bytes after a true one, so the lowest
    /// flagged byte is exact.
    @inline(__always)
    static func below0x30(_ word: UInt64) -> UInt64 {
        (word &- ones &* 0x30) & ~word & highBits
    }

    /// The 8 bytes `base[start..<start + 8]`, little-endian, with zeros for those at or past `count`.
    @inline(__always)
    static func word(_ base: UnsafePointer<UInt8>, at start: Int, count: Int) -> UInt64 {
        let left = count &- start
        let raw = UnsafeRawPointer(base)
        if left >= 8 { return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt64.self)) }
        if left <= 0 { return 0 }
        if count >= 8 {
            return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)) &>> UInt64(8 &* (8 &- left))
        }
        return ByteHash.head(base + start, left)
    }

    /// The low `n` bytes of a word (n < 8) set.
    @inline(__always)
    static func lowBytes(_ n: Int) -> UInt64 {
        (UInt64(1) &<< UInt64(8 &* n)) &- 1
    }

    /// Index of the first byte below 0x30 at or after `start` in `base[0..<count]`, or `count`.
    /// '/', '+', '#' and NUL are all below 0x30, so a topic is split and validated by stopping only
    /// there (other stops, such as '-' or '.', are stepped over by the caller).
    @inline(__always)
    static func firstBelow0x30(_ base: UnsafePointer<UInt8>, from start: Int, count: Int) -> Int {
        let raw = UnsafeRawPointer(base)
        var i = start
        while count &- i >= 8 {
            let below = below0x30(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            if below != 0 { return i &+ below.trailingZeroBitCount &>> 3 }
            i &+= 8
        }
        while i < count {
            if base[i] < 0x30 { return i }
            i &+= 1
        }
        return count
    }

    /// End of the level that goes on at `from` (a byte ≥ 0x30, or any byte but '/', NUL, '+', '#'):
    /// the index of the next '/', or `count`; -1 when the level holds NUL, '+' or '#'.
    static func levelEnd(_ base: UnsafePointer<UInt8>, from: Int, count: Int) -> Int {
        var i = from
        while true {
            i = firstBelow0x30(base, from: i, count: count)
            if i == count || base[i] == TopicSyntax.slash { return i }
            if base[i] == TopicSyntax.nul || base[i] == TopicSyntax.plus || base[i] == TopicSyntax.hash { return -1 }
            i &+= 1
        }
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

/// Raw copies of build-time arrays of plain values, freed by their owner with `free`.
enum Frozen {
    /// A copy this large is mapped on its own, aligned to 2 MB, and the kernel is asked to back it
    /// with 2 MB pages before it is touched. A check touches a few random slots of tries that reach
    /// tens of MB; with 4 KB pages each touch would also miss the TLB and walk the page tables
    /// (twice over in a VM). Not `posix_memalign`: below glibc's mmap threshold (up to 32 MB once a
    /// large block has been freed, as the snapshot build does) that returns heap memory whose pages
    /// are already there, 4 KB each, and the hint changes nothing (measured: no huge pages at all).
    /// On this project's VM the 2 MB pages made no measurable difference to the check at 10⁶ rules
    /// (16 alternating pairs of runs, the two forms' medians within 5 % and each run ±30 % from the
    /// next); on bare metal they should spare most of those touches a page walk (not measured here).
    static let hugePageBytes = 2 << 20

    static func copy<T>(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
        let bytes = byteCount(array.count, T.self)
        let mapped = mappedSize(bytes)
        let raw = mapped > 0 ? mapHuge(mapped) : malloc(bytes)
        guard let raw else { fatalError("cwauth: out of memory (\(bytes) bytes for the compiled policy)") }
        let buffer = UnsafeMutableBufferPointer(start: raw.bindMemory(to: T.self, capacity: max(array.count, 1)), count: array.count)
        _ = buffer.initialize(fromContentsOf: array)
        return buffer
    }

    static func free<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
        let mapped = mappedBytes(buffer)
        if mapped > 0 {
            _ = munmap(UnsafeMutableRawPointer(buffer.baseAddress), mapped)
        } else {
            Glibc.free(buffer.baseAddress)
        }
    }

    /// Bytes of `buffer` in a mapping of its own (outside malloc's heap, so a malloc count misses
    /// them); 0 for a copy on the heap.
    static func mappedBytes<T>(_ buffer: UnsafeMutableBufferPointer<T>) -> Int {
        mappedSize(byteCount(buffer.count, T.self))
    }

    private static func byteCount<T>(_ count: Int, _: T.Type) -> Int {
        max(count, 1) * MemoryLayout<T>.stride
    }

    /// The one place that decides: a copy of `bytes` gets a mapping of this size (whole 2 MB
    /// pages), or 0 for the heap.
    private static func mappedSize(_ bytes: Int) -> Int {
        bytes >= hugePageBytes ? (bytes + hugePageBytes - 1) / hugePageBytes * hugePageBytes : 0
    }

    /// `size` bytes (whole 2 MB pages) of fresh pages at a 2 MB boundary: a mapping 2 MB larger, trimmed.
    private static func mapHuge(_ size: Int) -> UnsafeMutableRawPointer? {
        guard let mapped = mmap(nil, size + hugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else { return nil }
        let address = UInt(bitPattern: mapped)
        let aligned = (address + UInt(hugePageBytes) - 1) & ~UInt(hugePageBytes - 1)
        let head = Int(aligned - address)  // 0 ..< hugePageBytes, so the tail is never empty
        if head > 0 { _ = munmap(mapped, head) }
        _ = munmap(mapped + head + size, hugePageBytes - head)
        let start = mapped + head
        _ = madvise(start, size, MADV_HUGEPAGE)  // a hint: without it, 4 KB pages
        return start
    }
}
