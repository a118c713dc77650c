import Histogram
import PollBenchRules

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
    ///   - spooled: whether ended sessions and finished intervals go to spools on disk as they come (a
    ///     live run's, so that its memory does not grow with its length): the sessions to one, every
    ///     metric's intervals to another under the metric's tag (each metric's are read back at the end,
    ///     without the sessions between them). False: they stay in memory.
    public init(keepsIntervals: Bool = true, spooled: Bool = false) {
        sessions = spooled ? SessionLog(spoolingTo: SpoolFile()) : SessionLog()
        let intervalSpool = spooled && keepsIntervals ? SpoolFile() : nil
        intervals = keepsIntervals ? Metric.all.indices.map { index in intervalSpool.map { IntervalSeries(spoolingTo: $0, tag: UInt8(index)) } ?? IntervalSeries() } : nil
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
        totals[index].record(value, startingWith: metric.histogram)
        intervals?[index].record(value, interval: interval)
    }

    /// Compresses one metric's interval that finished and waits (see ``IntervalSeries/encodePending()``);
    /// true when there was one.
    public mutating func encodePendingInterval() -> Bool {
        guard let count = intervals?.count else { return false }
        for index in 0..<count where intervals![index].encodePending() { return true }
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
