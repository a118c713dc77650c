import Histogram

/// The requests a session makes.
public enum Endpoint: String, Sendable, CaseIterable, Codable {
    case create, status, authorize, userinfo, evidence
}

/// How a session ended, as results count them.
public enum SessionOutcome: String, Sendable, CaseIterable, Codable {
    case completed, failed, expired, cancelled
    /// The client gave up (default 5 minutes, as the published client does).
    case clientTimeout = "client-timeout"
    /// The session could not be created or was lost.
    case error
    /// The run was interrupted before the session ended.
    case interrupted
}

/// One session's result, kept until the run ends so that detection lag can use the service's ground truth.
public struct SessionResult: Sendable, Codable, Equatable {
    public var key: String
    public var providerID: String
    public var verificationID: String?
    public var outcome: SessionOutcome
    public var polls: Int
    /// Model µs (epoch) when the create request was sent.
    public var createSentMicros: Int64
    /// Model µs (epoch) when the client received the terminal status; nil if it never did.
    public var terminalSeenMicros: Int64?
    /// Model ms (epoch) at which the service says it reached the terminal status, where its documents tell
    /// (`verifiedAt`, `expiresAt`); the embedded sandbox's ground truth fills in the rest.
    public var serviceTerminalMillis: Int64?
    /// The service's `createdAt` (model ms) and when the create response arrived (model µs): with
    /// ``createSentMicros`` they bound the offset between the service's clock and the client's.
    public var serviceCreatedMillis: Int64?
    public var createReceivedMicros: Int64?
}

extension SessionResult {
    /// The service's clock minus the client's, from the create's `createdAt` against the midpoint of its
    /// round trip (µs); nil when unknown. Good to within half the round trip.
    public var clockOffsetMicros: Int64? {
        guard let created = serviceCreatedMillis, let received = createReceivedMicros else { return nil }
        return created * 1_000 - (createSentMicros + received) / 2
    }

    /// Half the create's round trip (µs): the offset estimate's uncertainty.
    public var createHalfTripMicros: Int64? {
        createReceivedMicros.map { ($0 - createSentMicros) / 2 }
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
}

/// Request-level counts.
public struct RequestCounters: Sendable, Codable, Equatable {
    /// Requests sent.
    public var requests = 0
    /// Responses by endpoint, then by HTTP status, or `transport:<kind>` when none came.
    public var byEndpoint: [String: [String: Int]] = [:]
    /// API error codes from error envelopes.
    public var apiErrorCodes: [String: Int] = [:]
    /// Transport errors by kind.
    public var transportErrors: [String: Int] = [:]
    /// Responses whose body was not the JSON expected.
    public var malformedBodies = 0
    /// 429 responses.
    public var rateLimited = 0
    /// Model milliseconds spent waiting beyond the strategy because of `Retry-After`.
    public var retryAfterWaitMillis: Int64 = 0
    /// Statuses the client does not know, treated as non-terminal.
    public var unknownStatuses: [String: Int] = [:]

    mutating func merge(_ other: RequestCounters) {
        requests += other.requests
        for (endpoint, statuses) in other.byEndpoint {
            byEndpoint[endpoint, default: [:]].merge(statuses, uniquingKeysWith: +)
        }
        apiErrorCodes.merge(other.apiErrorCodes, uniquingKeysWith: +)
        transportErrors.merge(other.transportErrors, uniquingKeysWith: +)
        malformedBodies += other.malformedBodies
        rateLimited += other.rateLimited
        retryAfterWaitMillis += other.retryAfterWaitMillis
        unknownStatuses.merge(other.unknownStatuses, uniquingKeysWith: +)
    }
}

/// Requests, 429s and session starts and ends in one wall-clock second of a strategy's run.
public struct SecondBucket: Sendable, Codable, Equatable {
    public var requests = 0
    public var rateLimited = 0
    public var started = 0
    public var ended = 0

    public init(requests: Int = 0, rateLimited: Int = 0, started: Int = 0, ended: Int = 0) {
        self.requests = requests
        self.rateLimited = rateLimited
        self.started = started
        self.ended = ended
    }
}

extension Collection<SecondBucket> {
    /// The 99th percentile of requests in one of these seconds: the peak, outliers aside.
    public var peakRequestsPerSecond: Double {
        let sorted = map(\.requests).sorted()
        return sorted.isEmpty ? 0 : Double(sorted[Swift.min(sorted.count - 1, Int(Double(sorted.count) * 0.99))])
    }
}

/// Everything measured for one strategy (on one worker, or merged over all of them).
public struct StrategyRecorder: Sendable {
    /// Request latency by endpoint, from the intended send time (coordinated omission corrected), wall µs.
    public var latencyFromIntended: [Endpoint: Histogram<UInt64>] = [:]
    /// Request latency by endpoint, from the actual send time, wall µs.
    public var latencyFromSent: [Endpoint: Histogram<UInt64>] = [:]
    /// Actual minus intended send time, wall µs.
    public var slip = Histograms.micros()
    /// Create sent to terminal status seen, model µs.
    public var timeToResult = Histograms.micros()
    /// Status polls per session.
    public var pollsPerSession = Histograms.counts()
    public var counters = RequestCounters()
    public var outcomes: [SessionOutcome: Int] = [:]
    public var sessions: [SessionResult] = []
    /// Per wall second since the strategy's run started.
    public var seconds: [SecondBucket] = []

    public init() {}

    mutating func recordLatency(_ endpoint: Endpoint, fromIntended: Int64, fromSent: Int64) {
        _ = latencyFromIntended[endpoint, default: Histograms.micros()].record(UInt64(clamping: max(1, fromIntended)))
        _ = latencyFromSent[endpoint, default: Histograms.micros()].record(UInt64(clamping: max(1, fromSent)))
    }

    mutating func bucket(_ second: Int) -> Int {
        let index = max(0, second)
        if index >= seconds.count { seconds += Array(repeating: SecondBucket(), count: index - seconds.count + 1) }
        return index
    }

    /// Adds another worker's measurements: histograms merge exactly.
    public mutating func merge(_ other: StrategyRecorder) {
        for (endpoint, histogram) in other.latencyFromIntended { latencyFromIntended[endpoint, default: Histograms.micros()].add(histogram) }
        for (endpoint, histogram) in other.latencyFromSent { latencyFromSent[endpoint, default: Histograms.micros()].add(histogram) }
        slip.add(other.slip)
        timeToResult.add(other.timeToResult)
        pollsPerSession.add(other.pollsPerSession)
        counters.merge(other.counters)
        outcomes.merge(other.outcomes, uniquingKeysWith: +)
        sessions += other.sessions
        _ = bucket(other.seconds.count - 1)
        for (i, b) in other.seconds.enumerated() {
            seconds[i].requests += b.requests
            seconds[i].rateLimited += b.rateLimited
            seconds[i].started += b.started
            seconds[i].ended += b.ended
        }
    }
}
