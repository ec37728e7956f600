import Testing
@testable import AuthCore

// The level table and the word-at-a-time reads under it: every length around the word boundaries
// (0–40 bytes), found when interned and not found when one byte differs.

@Suite struct LevelTableTests {
    private static func bytes(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(0x30 + ($0 * 7 + seed) % 70) }
    }

    @Test func headIsTheFirstWordZeroPadded() {
        for count in 0...20 {
            let key = Self.bytes(count, seed: count)
            var expected: UInt64 = 0
            for (j, byte) in key.prefix(8).enumerated() { expected |= UInt64(byte) << (8 * j) }
            key.withUnsafeBufferPointer { #expect(ByteHash.head($0.baseAddress, count) == expected, "count \(count)") }
        }
    }

    @Test func everyLengthIsFoundAndNearMissesAreNot() {
        var builder = LevelTableBuilder()
        let keys = (0...40).map { Self.bytes($0, seed: 3) }
        var ids: [UInt32] = []
        for key in keys { ids.append(key.withUnsafeBufferPointer { builder.intern($0) }) }
        let table = builder.freeze()
        defer { table.deallocate() }

        func find(_ key: [UInt8]) -> UInt32 {
            key.withUnsafeBufferPointer { buffer in
                let (head, tail) = LevelTable.words(buffer.baseAddress, key.count)
                return table.find(head: head, tail: tail, buffer.baseAddress, key.count)
            }
        }
        for (key, id) in zip(keys, ids) {
            #expect(find(key) == id, "\(key.count) bytes")
            for position in [0, key.count / 2, key.count - 1] where !key.isEmpty {
                var changed = key
                changed[position] &+= 1
                #expect(find(changed) != id, "\(key.count) bytes, changed at \(position)")
            }
        }
        #expect(find(Self.bytes(41, seed: 3)) == EdgeTag.none)
        #expect(find(Self.bytes(5, seed: 4)) == EdgeTag.none)
    }

    /// The compiled arrays are copied out of Swift arrays: small ones onto the heap, large ones into
    /// a mapping of their own at a 2 MB boundary (for 2 MB pages). Both must hold the same values.
    @Test func frozenCopiesKeepTheirValuesAndLargeOnesAre2MBAligned() {
        for count in [0, 1, 1000, Frozen.hugePageBytes / 8 - 1, Frozen.hugePageBytes / 8, Frozen.hugePageBytes / 8 * 3 + 5] {
            let values = (0..<count).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
            let copy = Frozen.copy(values)
            #expect(copy.count == count)
            #expect(Array(copy) == values, "count \(count)")
            if count * 8 >= Frozen.hugePageBytes, let base = copy.baseAddress {
                #expect(UInt(bitPattern: base) % UInt(Frozen.hugePageBytes) == 0, "count \(count)")
                #expect(Frozen.mappedBytes(copy) >= count * 8 && Frozen.mappedBytes(copy) % Frozen.hugePageBytes == 0)
            } else {
                #expect(Frozen.mappedBytes(copy) == 0, "count \(count)")
            }
            Frozen.free(copy)
        }
    }
}
