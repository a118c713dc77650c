import Histogram

/// One metric's histogram for each interval of a run, at full resolution. The interval being recorded
/// is a live histogram; a finished one is kept in HdrHistogram's compressed encoding (a few hundred
/// bytes), as the `.hlog` writes it, so a long run costs little memory, and no more than one interval's
/// histogram is ever decoded at a time. The one that finished last may wait a few loop turns for its
/// compression (``encodePending()``).
public struct IntervalSeries: Sendable {
    /// Finished intervals, in the order they finished, with their largest value; an index can appear
    /// twice when values came late.
    public private(set) var finished: [(interval: Int, encoded: [UInt8], max: UInt64)] = []
    private var current: Histogram<UInt64>?
    private var currentInterval = 0
    /// The interval that finished last, not yet compressed: ``encodePending()`` does it when the loop
    /// has a moment, so that the second's turn does not compress every metric's interval at once.
    private var pending: (interval: Int, histogram: Histogram<UInt64>)?
    /// A compressed interval's histogram, emptied, for the next interval to fill.
    private var spare: Histogram<UInt64>?

    public init() {}

    /// Records `value` in interval `interval`.
    public mutating func record(_ value: UInt64, interval: Int) {
        if interval != currentInterval { finishCurrent() }
        currentInterval = interval
        if current == nil { current = Histograms.growing() }
        _ = current!.record(value)
    }

    /// Every interval in the compressed encoding (late values merged into their interval), by interval:
    /// an interval that finished once is passed on as it was kept; only one that finished twice or more
    /// is decoded, merged and encoded again.
    public func encodedIntervals() -> [(interval: Int, encoded: [UInt8], max: UInt64)] {
        var copy = self
        copy.finishCurrent()
        copy.encodePending()
        let byInterval = Dictionary(grouping: copy.finished.indices, by: { copy.finished[$0].interval })
        return byInterval.keys.sorted().compactMap { interval in
            let parts = byInterval[interval]!.map { copy.finished[$0] }
            guard parts.count > 1 else { return parts.first }
            var merged: Histogram<UInt64>?
            for part in parts {
                guard let histogram = HistogramLog.decodeCompressed(part.encoded) else { continue }
                if merged == nil { merged = histogram } else { merged!.autoResize = true; merged!.add(histogram) }
            }
            return merged.map { (interval, [UInt8](HistogramLog.compressedEncoding($0)), $0.max) }
        }
    }

    /// Adds a whole histogram to interval `interval` (a shard's, read back from its log).
    public mutating func add(_ histogram: Histogram<UInt64>, interval: Int) {
        finishCurrent()
        encodePending()
        finished.append((interval, [UInt8](HistogramLog.compressedEncoding(histogram)), histogram.max))
    }

    /// Adds another series' intervals (another worker's, another shard's).
    public mutating func merge(_ other: IntervalSeries) {
        finishCurrent()
        encodePending()
        var copy = other
        copy.finishCurrent()
        copy.encodePending()
        finished += copy.finished
    }

    /// Compresses the interval that finished last, if it waits; true when there was one.
    @discardableResult
    public mutating func encodePending() -> Bool {
        guard let waiting = pending else { return false }
        var histogram = waiting.histogram
        finished.append((waiting.interval, [UInt8](HistogramLog.compressedEncoding(histogram)), histogram.max))
        histogram.reset()
        spare = histogram
        pending = nil
        return true
    }

    /// Sets the current interval aside for compression; one that still waits is compressed first, so
    /// that at most one interval of each series waits.
    private mutating func finishCurrent() {
        guard let histogram = current, histogram.totalCount > 0 else { return }
        encodePending()
        pending = (currentInterval, histogram)
        current = spare
        spare = nil
    }
}
