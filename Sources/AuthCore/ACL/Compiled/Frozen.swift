#if canImport(Glibc)
import Glibc
#endif

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
