// Byte-level tools for the ACL hot path: hashing, scanning and comparing raw UTF-8 slices. Nothing
// here allocates, and nothing ever turns bytes into a String: MQTT compares topics and usernames as
// bytes (see Topic.swift's header on why String == is not that).

#if canImport(Glibc)
import Glibc
#endif

/// A hash of byte strings, word at a time.
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

    /// High bit set in each byte of `word` that is 0, and perhaps in bytes after one that is: only
    /// whether it is 0 is read.
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highBits
    }

    /// Whether `base[0..<count]` (count > 0) holds no NUL, '+' or '#': a valid topic name, as
    /// `TopicNameSyntax` reads one, without splitting it.
    @inline(__always)
    static func isTopicName(_ base: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        @inline(__always)
        func clean(_ word: UInt64) -> Bool {
            zeroBytes(word) | zeroBytes(word ^ (ones &* UInt64(TopicSyntax.plus))) | zeroBytes(word ^ (ones &* UInt64(TopicSyntax.hash))) == 0
        }
        guard count >= 8 else {
            for i in 0..<count where base[i] == TopicSyntax.nul || base[i] == TopicSyntax.plus || base[i] == TopicSyntax.hash {
                return false
            }
            return true
        }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while count &- i > 8 {
            if !clean(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return false }
            i &+= 8
        }
        // The last 8 bytes (overlapping what was read already).
        return clean(raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
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
