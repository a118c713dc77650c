import Foundation

/// The wall clock, where the service speaks wall time.
public enum WallClock {
    /// Milliseconds since the Unix epoch.
    public static func nowMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down))
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds. (`components` is read once: each read divides a 128-bit count,
    /// and the engine reads its clock a few times per request.)
    public var inNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
