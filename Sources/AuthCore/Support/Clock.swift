#if canImport(Glibc)
import Glibc
#endif

public enum Clock {
    /// Wall-clock seconds since the epoch: what the database stores, so every process agrees.
    public static func unixNow() -> Int64 {
        Int64(time(nil))
    }

    /// Monotonic nanoseconds: for throttles and TTLs that must not jump with the wall clock.
    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
