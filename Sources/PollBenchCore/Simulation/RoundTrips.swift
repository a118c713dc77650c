import Histogram
import PollBenchRules

/// How long a request takes on the wire in a simulation: fixed, or drawn (seeded) from a live run's
/// measured latency.
public struct RoundTrips: Sendable {
    private var samples: [Int64]  // nanoseconds, by cumulative share: an inverse CDF
    private var random: SplitMix64

    /// Every round trip takes `duration`.
    public static func constant(_ duration: Duration) -> RoundTrips {
        RoundTrips(samples: [duration.inNanoseconds], seed: 0)
    }

    /// Round trips drawn from a latency histogram (µs), as a live run measured it.
    public static func fitted(_ histogram: Histogram<UInt64>, seed: UInt64) -> RoundTrips {
        guard histogram.totalCount > 0 else { return .constant(.milliseconds(1)) }
        // 1,000 quantiles are plenty to reproduce the distribution's shape.
        let samples = (0..<1_000).map { Int64(histogram.valueAtPercentile((Double($0) + 0.5) / 10)) * 1_000 }
        return RoundTrips(samples: samples, seed: seed)
    }

    private init(samples: [Int64], seed: UInt64) {
        self.samples = samples
        random = SplitMix64(seed: seed, key: "round-trip")
    }

    /// The median round trip, in nanoseconds.
    public var medianNanos: Int64 { samples[samples.count / 2] }

    /// The `q` quantile of the round trips, in nanoseconds (the samples are in order already).
    public func quantileNanos(_ q: Double) -> Int64 {
        samples[min(samples.count - 1, Int(q * Double(samples.count)))]
    }

    /// The same model with every round trip multiplied by `factor` (rounded), drawing as this one would:
    /// the fast simulation draws in model µs.
    func scaled(by factor: Double) -> RoundTrips {
        var copy = self
        copy.samples = samples.map { Int64((Double($0) * factor).rounded()) }
        return copy
    }

    /// The next round trip, in nanoseconds (or the unit ``scaled(by:)`` made).
    mutating func next() -> Int64 {
        samples.count == 1 ? samples[0] : samples[Int(random.next() % UInt64(samples.count))]
    }
}
