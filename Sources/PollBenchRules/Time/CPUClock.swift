#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time consumed so far, in microseconds: by the calling thread, or by the whole process.
public enum CPUClock {
    /// The calling thread's CPU time (user and system).
    public static func threadMicros() -> Int64 { read(CLOCK_THREAD_CPUTIME_ID) }

    /// The process's CPU time (user and system, every thread).
    public static func processMicros() -> Int64 { read(CLOCK_PROCESS_CPUTIME_ID) }

    private static func read(_ clock: clockid_t) -> Int64 {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000
    }
}
