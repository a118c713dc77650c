import Histogram
import PollBenchRules

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
    /// A webhook's first delivery of a status change: received by the client minus changed at the service, model µs.
    case webhookDeliveryLag
    /// How long an accepted webhook waited between the receiver and its session's engine, wall µs: the
    /// harness's own share of the delivery lag (a busy engine loop shows here).
    case webhookInboxWait
    /// One phase of an endpoint's transfers as the transport timed them, wall µs (live runs only).
    case transfer(Endpoint, TransferPhase)

    /// Every metric, in the order of ``index``.
    public static let all: [Metric] = [.detectionLag, .timeToResult, .pollsPerSession, .scheduleSlip]
        + Endpoint.allCases.flatMap { [Metric.latency($0, corrected: true), .latency($0, corrected: false)] } + [.webhookDeliveryLag, .webhookInboxWait]
        + Endpoint.allCases.flatMap { endpoint in TransferPhase.allCases.map { Metric.transfer(endpoint, $0) } }

    /// Its place in ``all``.
    public var index: Int {
        switch self {
        case .detectionLag: 0
        case .timeToResult: 1
        case .pollsPerSession: 2
        case .scheduleSlip: 3
        case .latency(let endpoint, let corrected): 4 + 2 * endpoint.index + (corrected ? 0 : 1)
        case .webhookDeliveryLag: 4 + 2 * Endpoint.allCases.count
        case .webhookInboxWait: 5 + 2 * Endpoint.allCases.count
        case .transfer(let endpoint, let phase): 6 + 2 * Endpoint.allCases.count + endpoint.index * TransferPhase.allCases.count + phase.index
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
        case .webhookDeliveryLag: "webhook-delivery-lag"
        case .webhookInboxWait: "webhook-inbox-wait"
        case .transfer(let endpoint, let phase): "\(endpoint.rawValue)-\(phase.rawValue)"
        }
    }

    /// The metric a tag names.
    public init?(tag: String) {
        guard let metric = Self.all.first(where: { $0.tag == tag }) else { return nil }
        self = metric
    }

    /// What turns a recorded value into the unit of `.hgrm` files and summaries: µs to ms, counts as they are.
    public var divisor: Double { self == .pollsPerSession ? 1 : 1_000 }

    /// An empty histogram for the whole run, to record into.
    public func histogram() -> Histogram<UInt64> {
        self == .pollsPerSession ? Histograms.counts() : Histograms.micros()
    }

    /// An empty histogram of the metric's kind, shared: reading a metric that recorded nothing (latency in
    /// a fast simulation) allocates nothing.
    public var empty: Histogram<UInt64> { self == .pollsPerSession ? Self.emptyCounts : Self.emptyMicros }

    private static let emptyMicros = Histograms.micros()
    private static let emptyCounts = Histograms.counts()
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

extension Optional where Wrapped == Histogram<UInt64> {
    /// Records `value`, starting the histogram with `start()` when there is none yet. In place through the
    /// optional: comparing a histogram with nil first would copy it (its counts retained and released) on
    /// every value, and the engine records ten values a poll.
    mutating func record(_ value: UInt64, startingWith start: () -> Histogram<UInt64>) {
        if self?.record(value) == nil {
            self = start()
            self?.record(value)
        }
    }
}
