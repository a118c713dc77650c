import Histogram

/// One metric's histogram for each interval of a run, at full resolution. The interval being recorded
/// is a live histogram; a finished one is kept in HdrHistogram's compressed encoding (a few hundred
/// bytes), as the `.hlog` writes it, so a long run costs little memory.
public struct IntervalSeries: Sendable {
    /// Finished intervals, in the order they finished; an index can appear twice when values came late.
    public private(set) var finished: [(interval: Int, encoded: [UInt8])] = []
    private var current: Histogram<UInt64>?
    private var currentInterval = 0

    public init() {}

    /// Records `value` in interval `interval`.
    public mutating func record(_ value: UInt64, interval: Int) {
        if interval != currentInterval { finishCurrent() }
        currentInterval = interval
        if current == nil { current = Histograms.growing() }
        _ = current!.record(value)
    }

    /// Every interval's histogram (late values merged into their interval), by interval.
    public func histograms() -> [(interval: Int, histogram: Histogram<UInt64>)] {
        var copy = self
        copy.finishCurrent()
        var merged: [Int: Histogram<UInt64>] = [:]
        for (interval, encoded) in copy.finished {
            guard var histogram = HistogramLog.decodeCompressed(encoded) else { continue }
            if var earlier = merged[interval] {  // values that came late, or another worker's
                earlier.autoResize = true
                earlier.add(histogram)
                histogram = earlier
            }
            merged[interval] = histogram
        }
        return merged.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Adds a whole histogram to interval `interval` (a shard's, read back from its log).
    public mutating func add(_ histogram: Histogram<UInt64>, interval: Int) {
        finishCurrent()
        finished.append((interval, [UInt8](HistogramLog.compressedEncoding(histogram))))
    }

    /// Adds another series' intervals (another worker's, another shard's).
    public mutating func merge(_ other: IntervalSeries) {
        finishCurrent()
        var copy = other
        copy.finishCurrent()
        finished += copy.finished
    }

    private mutating func finishCurrent() {
        guard var histogram = current, histogram.totalCount > 0 else { return }
        finished.append((currentInterval, [UInt8](HistogramLog.compressedEncoding(histogram))))
        histogram.reset()
        current = histogram
    }
}
