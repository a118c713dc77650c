import PollBenchRules

/// What every run of a suite needs, live or simulated: its rounds, the engines' settings and sessions,
/// the embedded sandbox's settings, and the finished record.
extension Suite {
    /// The rounds of a run: each strategy alone, in order, or all of them at once in mixed mode.
    public var rounds: [[Int]] { mixed ? [Array(strategies.indices)] : strategies.indices.map { [$0] } }

    /// Whether any strategy asks for webhooks (the run then needs a receiver).
    public var usesWebhooks: Bool { strategies.contains(where: \.usesWebhooks) }

    /// The engine settings for one round, the rate cap split over `workers`.
    public func engineConfiguration(round: [Int], baseURL: String, credentials: BasicCredentials?, workers: Int = 1) -> EngineConfiguration {
        var configuration = EngineConfiguration(baseURL: baseURL, credentials: credentials, strategies: round.map { strategies[$0] }, seed: seed)
        configuration.clientTimeoutMillis = clientTimeoutMillis
        configuration.webhookTimeoutMillis = webhookTimeoutMillis
        configuration.createRetries = createRetries
        configuration.maxRequestsPerSecond = shardRequestCap / Double(max(1, workers))
        return configuration
    }

    /// One round's sessions (the workload's slots under each of its strategies) and, for a closed
    /// workload, how many run at once.
    public func sessionSpecs(round: [Int]) -> (specs: [EngineSessionSpec], closedConcurrency: Int) {
        var specs: [EngineSessionSpec] = []
        forEachSession(round: round, slots: workload.slots()) { specs.append(EngineSessionSpec(slot: $1, strategy: $0)) }
        return (specs, closedConcurrency(round: round))
    }

    /// A round's sessions in their order, each as its strategy's position in the round and its slot:
    /// every slot under the round's first strategy, then every slot under the next.
    public func forEachSession(round: [Int], slots: [SessionSlot], _ body: (_ position: Int, _ slot: SessionSlot) -> Void) {
        for position in round.indices {
            for slot in slots { body(position, slot) }
        }
    }

    /// For a closed workload, how many of a round's sessions run at once; 0 for an open one.
    public func closedConcurrency(round: [Int]) -> Int {
        if case .closed(let n) = workload.arrival { (workload.shard?.share(of: n) ?? n) * round.count } else { 0 }
    }

    /// The request-rate cap of this process: the suite's, divided between the shards.
    public var shardRequestCap: Double { maxRequestsPerSecond / Double(workload.shard?.count ?? 1) }

    /// A shard's part of a budget the whole run shares: its rate and burst divided by the shard count.
    /// (N buckets of 1/N are close to one shared bucket, not equal to it.)
    func shareOfBudget(_ limit: TokenBucket.Limit) -> TokenBucket.Limit {
        guard let count = workload.shard?.count, count > 1 else { return limit }
        return TokenBucket.Limit(rate: limit.rate / Double(count), burst: max(1, limit.burst / count))
    }

    /// The embedded sandbox for a run: the suite's settings with one client that holds the run's budget,
    /// keeping every session until the run has read its ground truth.
    public func sandboxConfiguration(client: BasicCredentials, webhookSecret: String? = nil) -> SandboxConfiguration {
        var configuration = sandbox
        configuration.clients = [.init(
            id: client.clientID, secret: client.clientSecret, rateLimit: rateLimit.map(shareOfBudget), endpointLimits: endpointLimits.mapValues(shareOfBudget),
            webhookSecret: webhookSecret
        )]
        configuration.graceSeconds = 1_000_000_000
        return configuration
    }

    /// The record's header, caps included.
    public func runInfo(name: String, startedAt: Int64, wallSeconds: Double, simulated: Bool, target: String, partial: Bool) -> RunInfo {
        var info = RunInfo(
            pollbenchVersion: PollBenchVersionInfo.current, name: name, startedAt: ISO8601Millis.format(startedAt), simulated: simulated,
            target: target, timeScale: timeScale, mode: mixed ? "mixed" : "sequential", workload: workload, clientTimeoutMillis: clientTimeoutMillis
        )
        info.partial = partial
        info.wallSeconds = wallSeconds
        info.caps = RunCaps(sessionsPerStrategy: Limits.sessions.upperBound, requestsPerSecond: shardRequestCap, wallSeconds: Double(maxDurationMillis) / 1_000)
        info.shard = workload.shard
        info.budget = target == "embedded" ? rateLimit.map(shareOfBudget) : nil
        return info
    }

    /// The finished record: the measurements, checked against the suite's thresholds, with its comparison tolerance.
    public func record(
        info: RunInfo, recorders: [[StrategyRecorder]], timelines: [IntervalTimeline], truth: (terminals: [String: Int64], counts: GroundTruth)?,
        webhookReceiver: WebhookReceiverCounts? = nil
    ) -> (record: RunRecord, results: [StrategyResult]) {
        let (record, results) = RunRecordBuilder(info: info).build(
            strategies: strategies, recorders: recorders, timelines: timelines, truth: truth, webhookReceiver: webhookReceiver
        )
        return (judged(record), results)
    }

    /// The record of results measured with their detection lag already known (the fast simulation).
    public func record(
        info: RunInfo, results: [StrategyResult], clockOffset: ClockOffset?, truth: GroundTruth?, webhookReceiver: WebhookReceiverCounts? = nil
    ) -> (record: RunRecord, results: [StrategyResult]) {
        (judged(RunRecordBuilder(info: info).record(results, clockOffset: clockOffset, truth: truth, webhookReceiver: webhookReceiver), measuresWallClock: false), results)
    }

    private func judged(_ record: RunRecord, measuresWallClock: Bool = true) -> RunRecord {
        var record = record
        record.thresholds = evaluate(record, measuresWallClock: measuresWallClock)
        record.compareTolerance = tolerance
        return record
    }
}

extension SandboxService {
    /// What a run checks itself against: each session's terminal time by verification id, and the counts.
    public func truth(now: Int64) -> (terminals: [String: Int64], counts: GroundTruth) {
        let terminals = sessionRecords(now: now).compactMap { record in record.terminalAt.map { (record.verificationId, $0) } }
        return (Dictionary(uniqueKeysWithValues: terminals), groundTruth(now: now))
    }
}
