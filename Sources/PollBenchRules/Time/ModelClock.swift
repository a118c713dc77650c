import Foundation

/// Model time: Unix epoch milliseconds on the sandbox's own clock, which runs `scale` times faster than
/// the wall clock so that a five-minute session can pass in seconds. Every timestamp and duration the
/// sandbox speaks (createdAt, TTL, Retry-After, outage windows) is in model time.
public struct ModelClock: Sendable {
    /// The response header by which pollbench's sandbox announces its time scale on every answer, so
    /// that a client run against it can run its own clock at the same rate.
    public static let timeScaleHeader = "X-Pollbench-Time-Scale"

    /// The time scales pollbench runs at, wherever one is given (flags, suites, sandbox configurations,
    /// a sandbox's announcement): above 1,000 a wall millisecond of scheduling noise is over a model second.
    public static let scales: ClosedRange<Double> = 0.001...1_000

    /// What is wrong with `scale` as a time scale, or nil.
    public static func scaleProblem(_ scale: Double) -> String? {
        scales.contains(scale) ? nil : String(format: "must be between %g and %g, not %g", scales.lowerBound, scales.upperBound, scale)
    }

    /// Model time at `origin`.
    public let startMillis: Int64
    /// How many model seconds pass per wall second.
    public let scale: Double
    /// The wall instant at which model time was `startMillis`.
    public let origin: ContinuousClock.Instant

    /// Starts a clock at `startMillis` at `origin` (default: now).
    public init(startMillis: Int64, scale: Double, origin: ContinuousClock.Instant = .now) {
        self.startMillis = startMillis
        self.scale = scale
        self.origin = origin
    }

    /// A clock on this machine's wall clock (plus `skewMillis`), aligned to the microsecond: the
    /// origin is moved back by the wall clock's sub-millisecond part, so that model time is wall time
    /// and not up to a millisecond behind it. A remote run's clock offset is measured against it.
    public static func wall(scale: Double, skewMillis: Int64 = 0) -> ModelClock {
        // The wall clock is read between two monotonic readings, the tightest pair of a few tries: a thread
        // preempted between the readings would otherwise shift this clock against another process's by the
        // time it spent off the CPU (milliseconds on a loaded machine).
        var (origin, micros, width) = (ContinuousClock.now, Int64(0), Duration.seconds(1))
        for _ in 0..<5 {
            let before = ContinuousClock.now
            let wall = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down))
            let after = ContinuousClock.now
            if after - before < width { (origin, micros, width) = (before + (after - before) / 2, wall, after - before) }
        }
        return ModelClock(startMillis: micros / 1_000 + skewMillis, scale: scale, origin: origin - .microseconds(micros % 1_000))
    }

    /// The model time now.
    public func nowMillis() -> Int64 {
        modelMicros(atNanos: nanos(since: .now)) / 1_000
    }

    /// Wall nanoseconds from the origin to `instant`.
    public func nanos(since instant: ContinuousClock.Instant) -> Int64 {
        let elapsed = instant - origin
        return elapsed.inNanoseconds
    }

    /// Model time, in microseconds since the Unix epoch, `wallNanos` after the origin.
    public func modelMicros(atNanos wallNanos: Int64) -> Int64 {
        startMillis * 1_000 + Int64((Double(wallNanos) / 1_000 * scale).rounded(.down))
    }

    /// Wall nanoseconds after the origin at which model time reaches `modelMicros`.
    public func nanos(atModelMicros modelMicros: Int64) -> Int64 {
        Int64((Double(modelMicros - startMillis * 1_000) * 1_000 / scale).rounded(.up))
    }

    /// Wall nanoseconds that `modelMillis` model milliseconds take.
    public func wallNanos(modelMillis: Int64) -> Int64 {
        Int64((Double(modelMillis) * 1e6 / scale).rounded(.up))
    }
}
