import Histogram

/// A distribution a run records for each strategy: in total, and per interval of the run.
public enum Metric: Hashable, Sendable {
    /// Terminal status seen by the client minus reached by the service, model µs.
    case detectionLag
    /// Create sent to terminal status seen, model µs.
    case timeToResult
    /// Status polls per session, a count.
    case pollsPerSession
    /// Actual minus intended send time, wall µs.
    case scheduleSlip
    /// Request latency of an endpoint, wall µs: from the intended send time (coordinated omission
    /// corrected) or, uncorrected, from the actual send.
    case latency(Endpoint, corrected: Bool)

    /// Every metric, in the order of ``index``.
    public static let all: [Metric] = [.detectionLag, .timeToResult, .pollsPerSession, .scheduleSlip]
        + Endpoint.allCases.flatMap { [Metric.latency($0, corrected: true), .latency($0, corrected: false)] }

    /// Its place in ``all``.
    public var index: Int {
        switch self {
        case .detectionLag: 0
        case .timeToResult: 1
        case .pollsPerSession: 2
        case .scheduleSlip: 3
        case .latency(let endpoint, let corrected): 4 + 2 * endpoint.index + (corrected ? 0 : 1)
        }
    }

    /// Its tag in `.hlog` files and its name in `.hgrm` file names.
    public var tag: String {
        switch self {
        case .detectionLag: "detection-lag"
        case .timeToResult: "time-to-result"
        case .pollsPerSession: "polls-per-session"
        case .scheduleSlip: "schedule-slip"
        case .latency(let endpoint, let corrected): "\(endpoint.rawValue)-latency" + (corrected ? "" : "-uncorrected")
        }
    }

    /// The metric a tag names.
    public init?(tag: String) {
        guard let metric = Self.all.first(where: { $0.tag == tag }) else { return nil }
        self = metric
    }

    /// What turns a recorded value into the unit of `.hgrm` files and summaries: µs to ms, counts as they are.
    public var divisor: Double { self == .pollsPerSession ? 1 : 1_000 }

    /// An empty histogram for the whole run.
    public func histogram() -> Histogram<UInt64> {
        self == .pollsPerSession ? Histograms.counts() : Histograms.micros()
    }
}

extension Endpoint {
    /// Its place in `allCases`, without a search.
    public var index: Int {
        switch self {
        case .create: 0
        case .status: 1
        case .authorize: 2
        case .userinfo: 3
        case .evidence: 4
        }
    }
}

/// Microsecond histograms (3 significant digits, up to one hour) and counts.
public enum Histograms {
    /// A histogram for durations in microseconds.
    public static func micros() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    /// A histogram for counts (polls per session).
    public static func counts() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000, numberOfSignificantValueDigits: .three)
    }

    /// A histogram that grows to whatever it records (3 significant digits): one interval's, kept small.
    public static func growing() -> Histogram<UInt64> {
        Histogram(numberOfSignificantValueDigits: .three)
    }
}

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

    /// Adds another series' intervals (another worker's, another shard's).
    public mutating func merge(_ other: IntervalSeries) {
        finishCurrent()
        var copy = other
        copy.finishCurrent()
        finished += copy.finished
    }

    /// A series holding these histograms.
    public init(_ histograms: [(interval: Int, histogram: Histogram<UInt64>)]) {
        finished = histograms.filter { $0.histogram.totalCount > 0 }.map { ($0.interval, [UInt8](HistogramLog.compressedEncoding($0.histogram))) }
    }

    private mutating func finishCurrent() {
        guard var histogram = current, histogram.totalCount > 0 else { return }
        finished.append((currentInterval, [UInt8](HistogramLog.compressedEncoding(histogram))))
        histogram.reset()
        current = histogram
    }
}
