import Histogram
import PollBenchRules

/// A distribution summarised from an HdrHistogram. An empty one has no statistics: each is `null` in
/// summary.json and `–` in tables, never a 0 that reads like a measurement.
public struct Distribution: Sendable, Codable, Equatable {
    /// `model-ms` (durations on the service's time scale), `wall-ms` (request latencies) or `count`.
    public var unit: String
    public var count: UInt64
    public var mean: Double?
    public var min: Double?
    public var p50: Double?
    public var p90: Double?
    public var p99: Double?
    public var p999: Double?
    public var max: Double?

    /// Summarises `histogram`, dividing recorded values by `divisor` (1,000 for µs to ms).
    public init(_ histogram: Histogram<UInt64>, unit: String, divisor: Double) {
        self.unit = unit
        count = histogram.totalCount
        guard count > 0 else { return }
        func value(_ v: UInt64) -> Double { Double(v) / divisor }
        mean = histogram.mean / divisor
        min = value(histogram.min)
        p50 = value(histogram.valueAtPercentile(50))
        p90 = value(histogram.valueAtPercentile(90))
        p99 = value(histogram.valueAtPercentile(99))
        p999 = value(histogram.valueAtPercentile(99.9))
        max = value(histogram.max)
    }

    private enum CodingKeys: String, CodingKey { case unit, count, mean, min, p50, p90, p99, p999, max }

    /// Every statistic is written, as `null` when there is no data, so a reader never mistakes a missing key for a 0.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(unit, forKey: .unit)
        try container.encode(count, forKey: .count)
        for (key, value) in [(CodingKeys.mean, mean), (.min, min), (.p50, p50), (.p90, p90), (.p99, p99), (.p999, p999), (.max, max)] {
            try container.encode(value, forKey: key)
        }
    }

    /// Records written before empty distributions were null carry zeros with `count` 0: read those as no data.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        unit = try container.decode(String.self, forKey: .unit)
        count = try container.decode(UInt64.self, forKey: .count)
        guard count > 0 else { return }
        func read(_ key: CodingKeys) throws -> Double? { try container.decodeIfPresent(Double.self, forKey: key) }
        (mean, min, p50, p90, p99, p999, max) = (try read(.mean), try read(.min), try read(.p50), try read(.p90), try read(.p99), try read(.p999), try read(.max))
    }
}

extension StrategySummary {
    /// Sessions whose end the client saw: completed, failed, expired or cancelled.
    public var sessionsThatSawTheEnd: Int {
        [SessionOutcome.completed, .failed, .expired, .cancelled].reduce(0) { $0 + (outcomes[$1.rawValue] ?? 0) }
    }
}

/// Request latency of one endpoint, from the intended and from the actual send time.
public struct EndpointLatency: Sendable, Codable, Equatable {
    public var fromIntended: Distribution
    public var fromSent: Distribution
}

/// Everything measured for one strategy, summarised.
public struct StrategySummary: Sendable, Codable, Equatable {
    public var name: String
    public var sessions: Int
    /// Sessions by outcome (every outcome listed, zeros included).
    public var outcomes: [String: Int]
    /// Terminal status seen by the client minus reached by the service.
    public var detectionLag: Distribution
    /// Completed-or-not sessions whose lag could not be computed (no service time known).
    public var detectionLagUnknown: Int
    /// Create sent to terminal status seen.
    public var timeToResult: Distribution
    public var pollsPerSession: Distribution
    public var requests: Int
    public var requestsPerSession: Double
    public var rateLimited: Int
    public var retryAfterWaitSeconds: Double
    public var responses: [String: [String: Int]]
    public var apiErrorCodes: [String: Int]
    public var transportErrors: [String: Int]
    public var malformedBodies: Int
    public var unknownStatuses: [String: Int]
    public var latency: [String: EndpointLatency]
    public var scheduleSlip: Distribution
    /// For a strategy that asks for webhooks: what they did.
    public var webhooks: WebhookSummary?
    /// Live runs: the transport's connections, HTTP versions and timing phases; nil when simulated.
    public var transport: TransportSummary?
    /// An `optimal` strategy's planned schedule: its poll times per provider and what the model predicts.
    public var optimalPlan: OptimalPlan? = nil
}

/// What the transport measured of a strategy's transfers, as k6 reports `http_req_connecting`,
/// `http_req_tls_handshaking` and `http_req_waiting`.
public struct TransportSummary: Sendable, Codable, Equatable {
    /// Connections opened and reused, and responses by HTTP version.
    public var connections: ConnectionCounts
    /// Per endpoint, per ``TransferPhase`` (`dns`, `connect`, `tls`: transfers that opened a connection;
    /// `first-byte`, `total`: every transfer), wall-ms.
    public var phases: [String: [String: Distribution]]
    /// Per phase, over every endpoint, wall-ms.
    public var overall: [String: Distribution]
}

/// A webhook strategy's webhooks, summarised.
public struct WebhookSummary: Sendable, Codable, Equatable {
    /// First delivery of each status change: received minus changed.
    public var deliveryLag: Distribution
    public var counts: WebhookCounts
    /// Polls saved per session.
    public var pollsSavedPerSession: Double
    /// Live runs: how long accepted deliveries waited between the receiver and their engine (wall-ms).
    public var inboxWait: Distribution?
}

/// The offset of the service's clock from the client's, estimated from create round trips.
public struct ClockOffset: Sendable, Codable, Equatable {
    /// Service clock minus client clock, model ms.
    public var offsetMillis: Double
    /// Half the width of the offsets every create allows: the estimate is within this, model ms.
    public var uncertaintyMillis: Double
    /// Whether the client and service share one clock (the embedded sandbox): then the lag is exact.
    public var exact: Bool
    /// Service seconds per client second, when the creates show the two clocks running at different
    /// rates (beyond 500 ppm): the offset is then the narrowest create's, and no lag is corrected with it.
    public var rateRatio: Double?

    public init(offsetMillis: Double, uncertaintyMillis: Double, exact: Bool, rateRatio: Double? = nil) {
        self.offsetMillis = offsetMillis
        self.uncertaintyMillis = uncertaintyMillis
        self.exact = exact
        self.rateRatio = rateRatio
    }
}

/// What a run was: everything in its record that does not come from measurements.
public struct RunInfo: Sendable, Codable, Equatable {
    public var pollbenchVersion: String
    public var name: String
    /// Wall clock, ISO 8601.
    public var startedAt: String
    public var wallSeconds: Double = 0
    /// True when the run was interrupted or cut short: counts cover only what finished.
    public var partial = false
    /// True for a virtual-time simulation.
    public var simulated: Bool
    /// `embedded` or the base URL of a remote target.
    public var target: String
    public var seed: UInt64
    public var timeScale: Double
    /// `sequential` (one strategy after another) or `mixed` (all at once, one credential).
    public var mode: String
    public var sessionsPerStrategy: Int
    public var arrival: String
    public var rampSeconds: Double
    public var providerMix: [String: Double]
    public var clientTimeoutSeconds: Double
    /// The hard caps the run ran under: sessions per strategy, requests per wall second, wall seconds.
    public var caps = RunCaps(sessionsPerStrategy: Suite.Limits.sessions.upperBound, requestsPerSecond: 20_000, wallSeconds: 600)
    /// The embedded sandbox's request budget for the run's client; nil: none, or a remote target's own.
    public var budget: TokenBucket.Limit?
    /// The shard this run was, of a sharded run (its sessions are those whose key falls to it); nil: the whole run.
    public var shard: Shard?
    /// For a merged run: the shards it was merged from.
    public var merged: MergedShards?
    /// True when `timeScale` is the one a remote pollbench sandbox announced, which the client adopted.
    public var timeScaleAnnounced: Bool?

    public init(
        pollbenchVersion: String, name: String, startedAt: String, simulated: Bool, target: String, timeScale: Double, mode: String,
        workload: Workload, clientTimeoutMillis: Int64
    ) {
        self.pollbenchVersion = pollbenchVersion
        self.name = name
        self.startedAt = startedAt
        self.simulated = simulated
        self.target = target
        self.seed = workload.seed
        self.timeScale = timeScale
        self.mode = mode
        sessionsPerStrategy = workload.sessions
        arrival = workload.arrival.name
        rampSeconds = workload.rampSeconds
        providerMix = Dictionary(workload.providerMix.map { ($0.id, $0.weight) }, uniquingKeysWith: +)
        clientTimeoutSeconds = Double(clientTimeoutMillis) / 1_000
    }
}

/// The shards a merged run covers: their indices, of how many, and whether any was stopped early. (A
/// merge of some of the shards is partial until merged with the rest; an interrupted shard stays so.)
public struct MergedShards: Sendable, Codable, Equatable {
    public var indices: [Int]
    public var count: Int
    public var interrupted: Bool
}

/// The hard limits of a run, which flags or the suite can change.
public struct RunCaps: Sendable, Codable, Equatable {
    public var sessionsPerStrategy: Int
    public var requestsPerSecond: Double
    public var wallSeconds: Double

    public init(sessionsPerStrategy: Int, requestsPerSecond: Double, wallSeconds: Double) {
        self.sessionsPerStrategy = sessionsPerStrategy
        self.requestsPerSecond = requestsPerSecond
        self.wallSeconds = wallSeconds
    }
}

/// A run's results: what every writer reads. Versioned; see `schema`.
public struct RunRecord: Sendable, Codable, Equatable {
    /// The schema name and version of this document.
    public var schema = "pollbench.run/1"
    public var run: RunInfo
    public var strategies: [StrategySummary]
    public var clockOffset: ClockOffset?
    /// Whether the counts were checked against the sandbox's ground truth.
    public var groundTruthChecked: Bool
    /// Differences between the client's counts and the embedded sandbox's; empty when they agree or nothing was checked.
    public var groundTruthDifferences: [String]
    /// Faults the embedded sandbox injected, by kind (empty for a remote target or a run without faults).
    public var sandboxFaults: [String: Int] = [:]
    /// Every webhook delivery the receiver took, whichever session it was for (nil: no webhook strategy ran).
    public var webhookReceiver: WebhookReceiverCounts?
    /// The embedded sandbox's own webhook counts.
    public var sandboxWebhooks: WebhookTruth?
    /// The suite's thresholds, checked per strategy.
    public var thresholds: [ThresholdResult] = []
    /// The suite's tolerance for `pollbench compare` (a fraction), used when none is given there.
    public var compareTolerance: Double?
    /// The harness's own load and whether it limited the measurement (live runs; nil simulated or merged).
    public var harness: HarnessHealth?
    /// A merged run: each shard's harness warning, named by its shard (nil when none warned).
    public var shardHarnessWarnings: [String]?

    /// Whether every threshold was met.
    public var thresholdsPassed: Bool { thresholds.allSatisfy(\.passed) }

    /// The strategies that ran sessions of which none saw a terminal status (all errors, timeouts or
    /// interruptions): they measured nothing, and a run with one is not a success.
    public var strategiesThatMeasuredNothing: [StrategySummary] {
        strategies.filter { $0.sessions > 0 && $0.sessionsThatSawTheEnd == 0 }
    }

    /// Whether the run's exit code says it failed: a threshold failed, a strategy measured nothing, or the
    /// service's clock runs at another rate than the client's (detection lag then not computed). A
    /// shard's never does: a sharded run is judged once, on the merged result (`pollbench merge`), and a
    /// pod that exits 1 would be retried.
    public var fails: Bool {
        run.shard == nil && (!thresholdsPassed || !strategiesThatMeasuredNothing.isEmpty || clockOffset?.rateRatio != nil)
    }
}
