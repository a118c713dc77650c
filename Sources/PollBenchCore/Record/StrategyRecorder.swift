import Histogram
import PollBenchRules

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
    /// What the transport reported about its connections (live runs only).
    public var connections = ConnectionCounts()

    /// One request's answer as the counts see it.
    public enum Answer: Sendable, Equatable {
        /// An HTTP response: its status, the error envelope's code (counted when present), and whether a
        /// success body could not be read.
        case response(status: Int, errorCode: String?, malformed: Bool)
        /// No response: the transport failed.
        case transport(TransportError.Kind)

        var isRateLimited: Bool {
            if case .response(429, _, _) = self { true } else { false }
        }
    }

    /// Counts `times` answers to `endpoint`: every request is counted here, once, by every runner.
    public mutating func count(_ endpoint: Endpoint, _ answer: Answer, times: Int = 1) {
        requests += times
        switch answer {
        case .response(let status, let code, let malformed):
            byEndpoint[endpoint.rawValue, default: [:]][String(status), default: 0] += times
            if status == 429 { rateLimited += times }
            if let code { apiErrorCodes[code, default: 0] += times }
            if malformed { malformedBodies += times }
        case .transport(let kind):
            byEndpoint[endpoint.rawValue, default: [:]]["transport:\(kind.rawValue)", default: 0] += times
            if kind != .goaway { transportErrors[kind.rawValue, default: 0] += times }
        }
    }

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
        connections.merge(other.connections)
    }
}

/// Transfers by whether they opened a connection, and by the HTTP version they spoke.
public struct ConnectionCounts: Sendable, Codable, Equatable {
    /// Transfers that opened a connection (TCP, and TLS where used).
    public var opened = 0
    /// Transfers that went over a connection already open (kept alive, or a multiplexed HTTP/2 stream).
    public var reused = 0
    /// Responses by HTTP version (`1.1`, `2`).
    public var httpVersions: [String: Int] = [:]
    /// Requests the transport sent again after the server closed their connection unprocessed (HTTP/2 GOAWAY).
    public var retriedAfterGoaway = 0

    public init() {}

    /// Whether any transfer was counted: a live run's transport reports, a simulation's has none.
    public var isEmpty: Bool { opened == 0 && reused == 0 }

    mutating func count(_ response: HTTPResponse) {
        if response.openedConnection { opened += 1 } else { reused += 1 }
        if let version = response.httpVersion { httpVersions[version, default: 0] += 1 }
        retriedAfterGoaway += response.retries
    }

    mutating func merge(_ other: ConnectionCounts) {
        opened += other.opened
        reused += other.reused
        httpVersions.merge(other.httpVersions, uniquingKeysWith: +)
        retriedAfterGoaway += other.retriedAfterGoaway
    }
}

/// Requests, 429s and session starts and ends in one wall-clock second of a strategy's run.
public struct SecondBucket: Sendable, Codable, Equatable {
    public var requests = 0
    public var rateLimited = 0
    public var started = 0
    public var ended = 0

    /// Adds another worker's or shard's counts of the same second.
    mutating func add(_ other: SecondBucket) {
        requests += other.requests
        rateLimited += other.rateLimited
        started += other.started
        ended += other.ended
    }

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

/// Everything measured for one strategy (on one worker, or merged over all of them): each ``Metric``'s
/// histogram for the whole run and, when kept, per interval of the run (a wall second live, a model
/// second simulated), the counters and the per-interval counts.
public struct StrategyRecorder: Sendable {
    /// Each metric's histogram for the whole run, by ``Metric/index``; nil until something is recorded.
    private var totals: [Histogram<UInt64>?] = Array(repeating: nil, count: Metric.all.count)
    /// Each metric's histograms per interval, by ``Metric/index``; nil when the run keeps none (tune, plan).
    public private(set) var intervals: [IntervalSeries]?
    public var counters = RequestCounters()
    public var webhooks = WebhookCounts()
    public var outcomes: [SessionOutcome: Int] = [:]
    public var sessions: SessionLog
    /// Counts per interval since the strategy's run started.
    public var seconds: [SecondBucket] = []

    /// - Parameters:
    ///   - keepsIntervals: whether to keep each metric's histogram per interval besides the totals.
    ///   - spool: where finished intervals and ended sessions go as they come (a live run's, so that its
    ///     memory does not grow with its length), each metric's and the sessions under their own tag;
    ///     nil: they stay in memory.
    public init(keepsIntervals: Bool = true, spool: SpoolFile? = nil) {
        sessions = spool.map { SessionLog(spoolingTo: $0, tag: UInt8(Metric.all.count)) } ?? SessionLog()
        intervals = keepsIntervals ? Metric.all.indices.map { index in spool.map { IntervalSeries(spoolingTo: $0, tag: UInt8(index)) } ?? IntervalSeries() } : nil
    }

    /// The metric's histogram for the whole run (empty when nothing was recorded).
    public func histogram(_ metric: Metric) -> Histogram<UInt64> {
        totals[metric.index] ?? metric.empty
    }

    /// The metric's histograms per interval in the compressed encoding, with their largest values (empty when none were kept).
    public func encodedIntervals(_ metric: Metric) -> [(interval: Int, encoded: [UInt8], max: UInt64)] {
        intervals?[metric.index].encodedIntervals() ?? []
    }

    /// Records one value of a metric, in interval `interval`.
    public mutating func record(_ metric: Metric, _ value: UInt64, interval: Int) {
        let index = metric.index
        if totals[index] == nil { totals[index] = metric.histogram() }
        _ = totals[index]!.record(value)
        intervals?[index].record(value, interval: interval)
    }

    /// Compresses one metric's interval that finished and waits (see ``IntervalSeries/encodePending()``);
    /// true when there was one.
    public mutating func encodePendingInterval() -> Bool {
        guard intervals != nil else { return false }
        for index in intervals!.indices where intervals![index].encodePending() { return true }
        return false
    }

    /// Adds a histogram of a metric's values to interval `interval` (a shard's, read back from its log).
    public mutating func add(_ metric: Metric, _ histogram: Histogram<UInt64>, interval: Int) {
        let index = metric.index
        if totals[index] == nil { totals[index] = metric.histogram() }
        totals[index]!.add(histogram)
        intervals?[index].add(histogram, interval: interval)
    }

    /// Records detection lag, known once the service's times are: (interval, µs) per session that saw its end.
    mutating func setDetectionLag(_ lags: [(interval: Int, micros: UInt64)]) {
        let index = Metric.detectionLag.index
        totals[index] = Metric.detectionLag.histogram()
        if intervals != nil { intervals![index] = IntervalSeries() }
        for lag in lags.sorted(by: { $0.interval < $1.interval }) { record(.detectionLag, lag.micros, interval: lag.interval) }
    }

    /// The counts of one interval, the buckets grown to hold it.
    mutating func bucket(_ interval: Int) -> Int {
        let index = max(0, interval)
        if index >= seconds.count { seconds += Array(repeating: SecondBucket(), count: index - seconds.count + 1) }
        return index
    }

    // MARK: What every runner records

    /// A session arrived.
    public mutating func countStart(interval: Int) {
        seconds[bucket(interval)].started += 1
    }

    /// A request went out, `slipMicros` after it was due.
    public mutating func countSend(slipMicros: UInt64, interval: Int) {
        seconds[bucket(interval)].requests += 1
        record(.scheduleSlip, slipMicros, interval: interval)
    }

    /// A request's answer arrived (or its failure), with its latency from the intended and the actual send.
    public mutating func countAnswer(_ endpoint: Endpoint, _ answer: RequestCounters.Answer, fromIntendedMicros: Int64, fromSentMicros: Int64, interval: Int) {
        record(.latency(endpoint, corrected: true), UInt64(clamping: max(1, fromIntendedMicros)), interval: interval)
        record(.latency(endpoint, corrected: false), UInt64(clamping: max(1, fromSentMicros)), interval: interval)
        counters.count(endpoint, answer)
        if answer.isRateLimited { seconds[bucket(interval)].rateLimited += 1 }
    }

    /// What the transport measured of a response's transfer: its phases and its connection.
    public mutating func countTransfer(_ endpoint: Endpoint, _ response: HTTPResponse, interval: Int) {
        guard let timing = response.timing else { return }
        counters.connections.count(response)
        if response.retries > 0 { counters.count(endpoint, .transport(.goaway), times: response.retries) }  // the attempts the GOAWAY cut off
        for (phase, micros) in timing.phases(openedConnection: response.openedConnection) {
            record(.transfer(endpoint, phase), UInt64(clamping: max(1, micros)), interval: interval)
        }
    }

    /// A session ended: its outcome, polls, time to result and `Retry-After` waits.
    public mutating func recordEnd(_ machine: SessionMachine, _ outcome: SessionOutcome, interval: Int) {
        outcomes[outcome, default: 0] += 1
        seconds[bucket(interval)].ended += 1
        if machine.isCreated { record(.pollsPerSession, UInt64(machine.polls), interval: interval) }
        if let seen = machine.terminalSeenMicros {
            record(.timeToResult, UInt64(clamping: max(1, seen - machine.createSentMicros)), interval: interval)
        }
        counters.retryAfterWaitMillis += machine.retryAfterWaitMillis
        if machine.usesWebhooks { webhooks.recordEnd(machine) }
    }

    /// A webhook delivery reached one of this strategy's sessions: what the receiver made of it and, when
    /// accepted, what it meant to the session, with its delivery lag (model µs) if it was the first.
    /// Counts one delivery; the delivery lag of a first notice is recorded when the change's time is known.
    public mutating func countWebhook(_ receipt: WebhookReceipt, notice: SessionMachine.NoticeKind?, attempt: Int, deliveryLagMicros: Int64?, interval: Int) {
        webhooks.receipts[receipt.rawValue, default: 0] += 1
        guard let notice else { return }
        webhooks.notices[notice.rawValue, default: 0] += 1
        if attempt > 1 { webhooks.retriesSeen += 1 }
        if notice == .first, let deliveryLagMicros { record(.webhookDeliveryLag, UInt64(clamping: max(1, deliveryLagMicros)), interval: interval) }
    }

    /// Adds another worker's measurements: histograms merge exactly, interval by interval.
    public mutating func merge(_ other: StrategyRecorder) {
        for index in totals.indices {
            guard let theirs = other.totals[index] else { continue }
            if totals[index] == nil { totals[index] = Metric.all[index].histogram() }
            totals[index]!.add(theirs)
        }
        if intervals != nil, let theirs = other.intervals {
            for index in theirs.indices { intervals![index].merge(theirs[index]) }
        }
        counters.merge(other.counters)
        webhooks.merge(other.webhooks)
        outcomes.merge(other.outcomes, uniquingKeysWith: +)
        sessions.merge(other.sessions)
        _ = bucket(other.seconds.count - 1)
        for (i, b) in other.seconds.enumerated() { seconds[i].add(b) }
    }
}

/// What a strategy's sessions made of their webhooks.
public struct WebhookCounts: Sendable, Codable, Equatable {
    /// Sessions that asked for a webhook.
    public var sessions = 0
    /// Deliveries to these sessions by ``WebhookReceipt``.
    public var receipts: [String: Int] = [:]
    /// Accepted deliveries by what they meant (``SessionMachine/NoticeKind``): first, duplicate, out-of-order, late.
    public var notices: [String: Int] = [:]
    /// Accepted deliveries that were a retry (attempt 2 or later).
    public var retriesSeen = 0
    /// Sessions by the channel that saw their end first (``SessionMachine/Channel``).
    public var noticedFirst: [String: Int] = [:]
    /// Sessions whose end a poll saw before any webhook came: a lost or slow webhook rescued.
    public var rescuedByPoll = 0
    /// Polls the webhooks made unneeded (``SessionMachine/pollsSaved``).
    public var pollsSaved = 0

    public init() {}

    mutating func recordEnd(_ machine: SessionMachine) {
        sessions += 1
        pollsSaved += machine.pollsSaved
        guard let channel = machine.detectedBy else { return }
        noticedFirst[channel.rawValue, default: 0] += 1
        if channel == .poll { rescuedByPoll += 1 }
    }

    mutating func merge(_ other: WebhookCounts) {
        sessions += other.sessions
        receipts.merge(other.receipts, uniquingKeysWith: +)
        notices.merge(other.notices, uniquingKeysWith: +)
        retriesSeen += other.retriesSeen
        noticedFirst.merge(other.noticedFirst, uniquingKeysWith: +)
        rescuedByPoll += other.rescuedByPoll
        pollsSaved += other.pollsSaved
    }
}
