import Foundation

/// A whole run in virtual time: the same suite, engine, strategies and sandbox behaviour model as a live
/// run, with the network replaced by a round-trip model. No sockets and no sleeping; the same seed gives
/// the same results, bit for bit.
public struct Simulation {
    public let suite: Suite
    public let roundTrip: RoundTripModel
    public let name: String

    /// The model time the simulated service starts at.
    public static let startMillis: Int64 = 1_795_000_000_000

    public init(suite: Suite, roundTrip: RoundTripModel, name: String) {
        self.suite = suite
        self.roundTrip = roundTrip
        self.name = name
    }

    /// Runs every strategy (one after another, or all at once in mixed mode) and builds the record.
    public func run() -> (record: RunRecord, results: [StrategyResult]) {
        let started = ContinuousClock.now
        let credentials = BasicCredentials(clientID: "SIMULATE", clientSecret: "virtual")
        var configuration = suite.sandbox
        configuration.clients = [.init(id: credentials.clientID, secret: credentials.clientSecret, rateLimit: suite.rateLimit, endpointLimits: suite.endpointLimits)]
        configuration.graceSeconds = 1_000_000_000
        let service = SandboxService(configuration: configuration, startMillis: Self.startMillis)
        let clock = ModelClock(startMillis: Self.startMillis, scale: suite.timeScale, origin: ContinuousClock.Instant.now)
        var recorders = Array(repeating: [StrategyRecorder](), count: suite.strategies.count)
        let rounds: [[Int]] = suite.mixed ? [Array(suite.strategies.indices)] : suite.strategies.indices.map { [$0] }
        var elapsed = Duration.zero
        var model = roundTrip
        for round in rounds {
            var engineConfiguration = EngineConfiguration(baseURL: "http://sandbox.simulated/api/v1", credentials: credentials, strategies: round.map { suite.strategies[$0] }, seed: suite.seed)
            engineConfiguration.clientTimeoutMillis = suite.clientTimeoutMillis
            engineConfiguration.createRetries = suite.createRetries
            engineConfiguration.maxRequestsPerSecond = suite.maxRequestsPerSecond
            let slots = suite.workload.slots()
            let specs = round.indices.flatMap { position in slots.map { EngineSessionSpec(slot: $0, strategy: position) } }
            let concurrency: Int = if case .closed(let n) = suite.workload.arrival { n * round.count } else { 0 }
            let loop = VirtualTimeLoop(service: service, clock: clock, roundTrip: model, start: elapsed)
            let engine = PollingEngine(configuration: engineConfiguration, sessions: specs, clock: clock, closedConcurrency: concurrency, now: { loop.now })
            elapsed = loop.run(engine)
            model = loop.roundTripModel
            for (position, strategy) in round.enumerated() { recorders[strategy].append(engine.recorders[position]) }
        }
        let end = Int64.max / 4
        let terminals = Dictionary(uniqueKeysWithValues: service.sessionRecords(now: end).compactMap { r in r.terminalAt.map { (r.verificationId, $0) } })
        var info = RunInfo(
            pollbenchVersion: PollBenchVersionInfo.current, name: name, startedAt: ISO8601Millis.format(WallClock.nowMillis()), simulated: true,
            target: "embedded (simulated)", timeScale: suite.timeScale, mode: suite.mixed ? "mixed" : "sequential", workload: suite.workload,
            clientTimeoutMillis: suite.clientTimeoutMillis
        )
        let wall = ContinuousClock.now - started
        info.wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        info.caps = RunCaps(sessionsPerStrategy: 100_000, requestsPerSecond: suite.maxRequestsPerSecond, wallSeconds: Double(suite.maxDurationMillis) / 1_000)
        var (record, results) = RunRecordBuilder(info: info).build(strategies: suite.strategies, recorders: recorders, truth: (terminals, service.groundTruth(now: end)))
        record.thresholds = suite.evaluate(record)
        record.compareTolerance = suite.tolerance
        return (record, results)
    }
}

/// pollbench's version, as results record it.
public enum PollBenchVersionInfo {
    public static let current = "0.1.0"
}
