import Histogram

/// One metric's histogram for each interval of a run, at full resolution. The interval being recorded
/// is a live histogram; a finished one is kept in HdrHistogram's compressed encoding (a few hundred
/// bytes), as the `.hlog` writes it, and a live run spools it to disk, so that a long run's memory is
/// its open interval's; no more than one interval's histogram is ever decoded at a time. The one that
/// finished last may wait a few loop turns for its compression (``encodePending()``).
public struct IntervalSeries: Sendable {
    /// Finished intervals, in the order they finished; an index can appear twice when values came late.
    private var finished: SpoolLog<EncodedInterval>
    private var current: Histogram<UInt64>?
    private var currentInterval = 0
    /// The interval that finished last, not yet compressed: ``encodePending()`` does it when the loop
    /// has a moment, so that the second's turn does not compress every metric's interval at once.
    private var pending: (interval: Int, histogram: Histogram<UInt64>)?
    /// A compressed interval's histogram, emptied, for the next interval to fill.
    private var spare: Histogram<UInt64>?

    /// A series whose finished intervals stay in memory.
    public init() {
        finished = SpoolLog()
    }

    /// A series whose finished intervals go to `spool` as they are compressed, tagged `tag`.
    public init(spoolingTo spool: SpoolFile, tag: UInt8) {
        finished = SpoolLog(spoolingTo: spool, tag: tag)
    }

    /// Records `value` in interval `interval`.
    public mutating func record(_ value: UInt64, interval: Int) {
        if interval != currentInterval { finishCurrent() }
        currentInterval = interval
        current.record(value, startingWith: Histograms.growing)
    }

    /// Every interval in the compressed encoding (late values merged into their interval), by interval:
    /// an interval that finished once is passed on as it was kept; only one that finished twice or more
    /// is decoded, merged and encoded again.
    public func encodedIntervals() -> [(interval: Int, encoded: [UInt8], max: UInt64)] {
        let byInterval = Dictionary(grouping: finished.all + openIntervals, by: \.interval)
        return byInterval.keys.sorted().compactMap { interval in
            let parts = byInterval[interval]!
            guard parts.count > 1 else { return parts.first.map { ($0.interval, $0.encoded, $0.max) } }
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
        finished.append(Self.encode(histogram, interval: interval))
    }

    /// Adds another series' intervals (another worker's, another shard's); the other series is left as it was.
    public mutating func merge(_ other: IntervalSeries) {
        finishCurrent()
        encodePending()
        finished.merge(other.finished)
        other.openIntervals.forEach { finished.append($0) }
    }

    /// The intervals not finished yet, or not compressed yet, compressed (for reading, not kept).
    private var openIntervals: [EncodedInterval] {
        [pending, current.map { (currentInterval, $0) }].compactMap { open in
            guard let open, open.histogram.totalCount > 0 else { return nil }
            return Self.encode(open.histogram, interval: open.interval)
        }
    }

    private static func encode(_ histogram: Histogram<UInt64>, interval: Int) -> EncodedInterval {
        EncodedInterval(interval: interval, encoded: [UInt8](HistogramLog.compressedEncoding(histogram)), max: histogram.max)
    }

    /// Compresses the interval that finished last, if it waits; true when there was one.
    @discardableResult
    public mutating func encodePending() -> Bool {
        // Taken out, not copied: the histogram's only holder now, so it is reset in place.
        guard var waiting = pending.take() else { return false }
        finished.append(Self.encode(waiting.histogram, interval: waiting.interval))
        waiting.histogram.reset()
        spare = waiting.histogram
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
