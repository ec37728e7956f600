import CSystemLibraries

enum Memory {
    /// Hands free heap pages back to the system. A replaced snapshot of a million rules leaves
    /// hundreds of megabytes free in glibc's arenas (the next build may run in another thread's
    /// arena and not reuse them), so without this the broker's resident size grows with every reload.
    static func returnFreePages() {
        _ = malloc_trim(0)
    }
}
