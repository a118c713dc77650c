import PollBenchRules

/// Where a strategy's intervals sit in time. An interval is one second: of wall time in a live run, of
/// model time in a simulation. Interval 0 starts when the strategy's round started.
public struct IntervalTimeline: Sendable, Equatable {
    /// Seconds from the run's start (the `.hlog`'s `StartTime`) to interval 0.
    public var offsetSeconds: Double
    /// Model µs at the start of interval 0.
    public var originModelMicros: Int64
    /// Model µs in one interval: one for a simulation, the time scale for a live run.
    public var modelMicrosPerInterval: Double

    public init(offsetSeconds: Double, originModelMicros: Int64, modelMicrosPerInterval: Double) {
        self.offsetSeconds = offsetSeconds
        self.originModelMicros = originModelMicros
        self.modelMicrosPerInterval = modelMicrosPerInterval
    }

    /// The timeline of intervals `intervalNanos` long that start at wall nanoseconds `originNanos` on `clock`.
    public init(clock: ModelClock, originNanos: Int64, intervalNanos: Int64, offsetSeconds: Double) {
        self.init(
            offsetSeconds: offsetSeconds, originModelMicros: clock.modelMicros(atNanos: originNanos),
            modelMicrosPerInterval: Double(intervalNanos) / 1_000 * clock.scale
        )
    }

    /// The interval that a model time falls in (values known only in model time, such as detection lag).
    public func interval(atModelMicros micros: Int64) -> Int {
        Int((Double(micros - originModelMicros) / modelMicrosPerInterval).rounded(.down))
    }
}
