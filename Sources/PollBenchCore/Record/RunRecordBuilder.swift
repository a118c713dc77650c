import Histogram
import PollBenchRules

/// One strategy's merged measurements, detection lag included, and where its intervals sit in time:
/// what writers export.
public struct StrategyResult: Sendable {
    public var strategy: PollStrategy
    public var recorder: StrategyRecorder
    public var timeline: IntervalTimeline
    /// The embedded sandbox's terminal times (model ms) by verification id, where it still held the
    /// session: they come before what the session's own documents said.
    public var serviceTerminals: [String: Int64]

    public init(strategy: PollStrategy, recorder: StrategyRecorder, timeline: IntervalTimeline, serviceTerminals: [String: Int64] = [:]) {
        self.strategy = strategy
        self.recorder = recorder
        self.timeline = timeline
        self.serviceTerminals = serviceTerminals
    }

    /// Detection lag, model µs.
    public var detectionLag: Histogram<UInt64> { recorder.histogram(.detectionLag) }

    /// When the service reached `session`'s terminal status (model ms): for a session that saw its end,
    /// the time its detection lag used; for one that did not, what its documents said. Nil: unknown.
    public func serviceTerminalMillis(_ session: SessionResult) -> Int64? {
        guard session.terminalSeenMicros != nil else { return session.serviceTerminalMillis }
        return session.verificationID.flatMap { serviceTerminals[$0] } ?? session.serviceTerminalMillis
    }
}

/// Turns engine recorders into a ``RunRecord``: merges workers, computes detection lag from the
/// service's terminal times (the embedded sandbox's ground truth where it is known), checks the
/// client's counts against the sandbox's, and estimates the clock offset for remote targets.
public struct RunRecordBuilder {
    public var info: RunInfo

    public init(info: RunInfo) {
        self.info = info
    }

    /// - Parameters:
    ///   - recorders: per strategy, the recorders of every worker.
    ///   - timelines: per strategy, where its intervals sit in time.
    ///   - truth: the embedded sandbox's terminal times (model ms) by verification id, and its counts; nil for a remote target.
    public func build(
        strategies: [PollStrategy], recorders: [[StrategyRecorder]], timelines: [IntervalTimeline], truth: (terminals: [String: Int64], counts: GroundTruth)?,
        webhookReceiver: WebhookReceiverCounts? = nil
    ) -> (record: RunRecord, results: [StrategyResult]) {
        let merged = recorders.map { workers in workers.reduce(into: StrategyRecorder()) { $0.merge($1) } }
        var creates: [(sent: Int64, bounds: ClosedRange<Int64>)] = []
        for recorder in merged {
            recorder.sessions.forEach { session in
                if let bounds = session.clockOffsetBounds { creates.append((session.createSentMicros, bounds)) }
            }
        }
        let offset = Self.clockOffset(creates, exact: truth != nil)
        // Against a remote service, a lag needs an offset that holds: none estimated (no create said when
        // it was made) or one between clocks at different rates leaves every lag unknown, never corrected by 0.
        let usable = truth != nil || (offset != nil && offset?.rateRatio == nil)
        var results: [StrategyResult] = []
        var lagUnknown: [Int] = []
        for (index, (strategy, merged)) in zip(strategies, merged).enumerated() {
            var result = StrategyResult(strategy: strategy, recorder: merged, timeline: timelines[index], serviceTerminals: truth?.terminals ?? [:])
            var lags: [(interval: Int, micros: UInt64)] = []
            var unknown = 0
            merged.sessions.forEach { session in
                guard let seen = session.terminalSeenMicros else { return }
                guard let serviceMillis = result.serviceTerminalMillis(session), usable else { unknown += 1; return }
                let serviceInClientMicros = Double(serviceMillis * 1_000) - (offset?.offsetMillis ?? 0) * 1_000
                lags.append((timelines[index].interval(atModelMicros: seen), DetectionLag.micros(seenMicros: seen, serviceMicros: serviceInClientMicros)))
            }
            result.recorder.setDetectionLag(lags)
            results.append(result)
            lagUnknown.append(unknown)
        }
        return (record(results, clockOffset: offset, lagUnknown: lagUnknown, truth: truth?.counts, webhookReceiver: webhookReceiver), results)
    }

    /// The record of finished results: each strategy summarised, the counts checked against the
    /// sandbox's where it is known.
    public func record(
        _ results: [StrategyResult], clockOffset: ClockOffset?, lagUnknown: [Int]? = nil, truth: GroundTruth?, webhookReceiver: WebhookReceiverCounts? = nil
    ) -> RunRecord {
        let summaries = results.enumerated().map { index, result in Self.summary(result.strategy, result.recorder, lagUnknown: lagUnknown?[index] ?? 0) }
        var record = RunRecord(
            run: info, strategies: summaries, clockOffset: clockOffset, groundTruthChecked: truth != nil,
            groundTruthDifferences: truth.map { Self.compare(results.map(\.recorder.counters), with: $0) } ?? []
        )
        record.sandboxFaults = truth?.faults ?? [:]
        record.webhookReceiver = webhookReceiver
        record.sandboxWebhooks = truth?.webhooks
        if let sent = truth?.webhooks?.attempts, let received = webhookReceiver?.received, sent != received {
            record.groundTruthDifferences.append("webhooks: sandbox delivered \(sent) attempts, receiver took \(received)")
        }
        return record
    }

    static func summary(_ strategy: PollStrategy, _ recorder: StrategyRecorder, lagUnknown: Int) -> StrategySummary {
        let sessions = recorder.outcomes.values.reduce(0, +)  // every session ends in exactly one outcome
        var latency: [String: EndpointLatency] = [:]
        for endpoint in Endpoint.allCases {
            let intended = recorder.histogram(.latency(endpoint, corrected: true)), sent = recorder.histogram(.latency(endpoint, corrected: false))
            guard intended.totalCount > 0 else { continue }
            latency[endpoint.rawValue] = EndpointLatency(
                fromIntended: Distribution(intended, unit: "wall-ms", divisor: 1_000), fromSent: Distribution(sent, unit: "wall-ms", divisor: 1_000)
            )
        }
        return StrategySummary(
            name: strategy.name, sessions: sessions,
            outcomes: Dictionary(uniqueKeysWithValues: SessionOutcome.allCases.map { ($0.rawValue, recorder.outcomes[$0] ?? 0) }),
            detectionLag: Distribution(recorder.histogram(.detectionLag), unit: "model-ms", divisor: 1_000), detectionLagUnknown: lagUnknown,
            timeToResult: Distribution(recorder.histogram(.timeToResult), unit: "model-ms", divisor: 1_000),
            pollsPerSession: Distribution(recorder.histogram(.pollsPerSession), unit: "count", divisor: 1),
            requests: recorder.counters.requests,
            requestsPerSession: sessions == 0 ? 0 : Double(recorder.counters.requests) / Double(sessions),
            rateLimited: recorder.counters.rateLimited,
            retryAfterWaitSeconds: Double(recorder.counters.retryAfterWaitMillis) / 1_000,
            responses: recorder.counters.byEndpoint, apiErrorCodes: recorder.counters.apiErrorCodes,
            transportErrors: recorder.counters.transportErrors, malformedBodies: recorder.counters.malformedBodies,
            unknownStatuses: recorder.counters.unknownStatuses, latency: latency,
            scheduleSlip: Distribution(recorder.histogram(.scheduleSlip), unit: "wall-ms", divisor: 1_000),
            webhooks: strategy.usesWebhooks ? WebhookSummary(
                deliveryLag: Distribution(recorder.histogram(.webhookDeliveryLag), unit: "model-ms", divisor: 1_000), counts: recorder.webhooks,
                pollsSavedPerSession: recorder.webhooks.sessions == 0 ? 0 : Double(recorder.webhooks.pollsSaved) / Double(recorder.webhooks.sessions),
                inboxWait: recorder.histogram(.webhookInboxWait).totalCount == 0 ? nil : Distribution(recorder.histogram(.webhookInboxWait), unit: "wall-ms", divisor: 1_000)
            ) : nil,
            transport: transport(recorder), optimalPlan: strategy.optimalSchedule?.plan
        )
    }

    /// The transport's figures, when it reported any.
    static func transport(_ recorder: StrategyRecorder) -> TransportSummary? {
        guard !recorder.counters.connections.isEmpty else { return nil }
        var phases: [String: [String: Distribution]] = [:], overall: [String: Distribution] = [:]
        for phase in TransferPhase.allCases {
            var all = Histograms.micros()
            for endpoint in Endpoint.allCases {
                let histogram = recorder.histogram(.transfer(endpoint, phase))
                guard histogram.totalCount > 0 else { continue }
                phases[endpoint.rawValue, default: [:]][phase.rawValue] = Distribution(histogram, unit: "wall-ms", divisor: 1_000)
                all.add(histogram)
            }
            if all.totalCount > 0 { overall[phase.rawValue] = Distribution(all, unit: "wall-ms", divisor: 1_000) }
        }
        return TransportSummary(connections: recorder.counters.connections, phases: phases, overall: overall)
    }

    /// Every count on which the client and the sandbox disagree. Where the client saw transport errors
    /// on an endpoint (a connection the sandbox cut mid-response, a timeout, a GOAWAY), those requests got
    /// no status on the client's side, so that endpoint is compared by its total instead of status by status.
    static func compare(_ counters: [RequestCounters], with truth: GroundTruth) -> [String] {
        var client: [String: [String: Int]] = [:]
        for counter in counters {
            for (endpoint, statuses) in counter.byEndpoint { client[endpoint, default: [:]].merge(statuses, uniquingKeysWith: +) }
        }
        var differences: [String] = []
        for endpoint in Set(client.keys).union(truth.responses.keys).sorted() where endpoint != SandboxEndpoint.unknown.rawValue {
            let ours = client[endpoint] ?? [:], theirs = truth.responses[endpoint] ?? [:]
            let lost = ours.filter { $0.key.hasPrefix("transport:") }.values.reduce(0, +)
            if lost > 0 {
                // A request lost on the way may or may not have reached the sandbox: it answered between
                // the requests that got a response and all that were sent.
                let total = ours.values.reduce(0, +), sandboxTotal = theirs.values.reduce(0, +)
                if !(total - lost...total).contains(sandboxTotal) {
                    differences.append("\(endpoint): client sent \(total) (\(lost) without a response), sandbox answered \(sandboxTotal)")
                }
                continue
            }
            for status in Set(ours.keys).union(theirs.keys).sorted() where ours[status] != theirs[status] {
                differences.append("\(endpoint) \(status): client \(ours[status] ?? 0), sandbox \(theirs[status] ?? 0)")
            }
        }
        return differences
    }

    /// How far two clocks may drift apart and still count as running at one rate: 500 ppm, the most
    /// that NTP slews a clock by.
    static let driftAllowance = 500e-6

    /// The service-minus-client clock offset: the offsets every create allows, each widened by the drift
    /// allowance for the time since the first create, intersected (as NTP keeps the tightest bounds),
    /// reported as the middle and half the width. When even the widened bounds disagree, the two clocks
    /// run at different rates: the ratio is fitted (least squares over the creates) and reported with
    /// the narrowest create's bounds, and no lag is corrected with them.
    static func clockOffset(_ creates: [(sent: Int64, bounds: ClosedRange<Int64>)], exact: Bool) -> ClockOffset? {
        guard let narrowest = creates.min(by: { $0.bounds.upperBound - $0.bounds.lowerBound < $1.bounds.upperBound - $1.bounds.lowerBound })?.bounds else { return nil }
        if exact { return ClockOffset(offsetMillis: 0, uncertaintyMillis: 0, exact: true) }
        let first = creates.map(\.sent).min() ?? 0
        var lower = Int64.min, upper = Int64.max
        for create in creates {
            let slack = Int64((Double(create.sent - first) * driftAllowance).rounded(.up))
            lower = max(lower, create.bounds.lowerBound - slack)
            upper = min(upper, create.bounds.upperBound + slack)
        }
        let kept = lower <= upper ? lower...upper : narrowest
        var offset = ClockOffset(
            offsetMillis: Double(kept.lowerBound + kept.upperBound) / 2_000, uncertaintyMillis: Double(kept.upperBound - kept.lowerBound) / 2_000, exact: false
        )
        if lower > upper { offset.rateRatio = rateRatio(creates.map { ($0.sent, Double($0.bounds.lowerBound + $0.bounds.upperBound) / 2) }) }
        return offset
    }

    /// Service seconds per client second: one plus the least-squares slope of the offset against the
    /// client's time. 1 (the rates agree) when the creates were all sent at one instant.
    static func rateRatio(_ points: [(sent: Int64, offset: Double)]) -> Double {
        let count = Double(points.count)
        let meanX = points.reduce(0) { $0 + Double($1.sent) } / count, meanY = points.reduce(0) { $0 + $1.offset } / count
        let covariance = points.reduce(0) { $0 + (Double($1.sent) - meanX) * ($1.offset - meanY) }
        let variance = points.reduce(0) { $0 + (Double($1.sent) - meanX) * (Double($1.sent) - meanX) }
        return variance == 0 ? 1 : 1 + covariance / variance
    }
}

/// Detection lag: when the client saw a terminal status minus when the service reached it, on the
/// client's clock, never below zero.
public enum DetectionLag {
    /// The lag in µs of a terminal status seen at `seenMicros` and reached at `serviceMicros` (both model µs).
    public static func micros(seenMicros: Int64, serviceMicros: Double) -> UInt64 {
        UInt64(max(0, (Double(seenMicros) - serviceMicros).rounded()))
    }
}
