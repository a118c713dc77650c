import Foundation
import PollBenchRules

/// A whole run in virtual time: the same suite, engine, strategies and sandbox rules as a live
/// run, with the network replaced by a round-trip model. No sockets and no sleeping; the same seed gives
/// the same results, bit for bit.
public struct Simulation {
    public let suite: Suite
    public let roundTrip: RoundTrips
    public let name: String

    /// The model time the simulated service starts at.
    public static let startMillis: Int64 = 1_795_000_000_000

    public init(suite: Suite, roundTrip: RoundTrips, name: String) {
        self.suite = suite.planned()
        self.roundTrip = roundTrip
        self.name = name
    }

    /// Runs every strategy (one after another, or all at once in mixed mode) and builds the record.
    public func run() -> (record: RunRecord, results: [StrategyResult]) {
        let started = ContinuousClock.now
        let credentials = BasicCredentials(clientID: "SIMULATE", clientSecret: "virtual")
        let receiver = suite.usesWebhooks ? WebhookReceiver(secrets: [Self.webhookSecret]) : nil
        let service = SandboxService(configuration: suite.sandboxConfiguration(client: credentials, webhookSecret: Self.webhookSecret), startMillis: Self.startMillis)
        let clock = ModelClock(startMillis: Self.startMillis, scale: suite.timeScale, origin: ContinuousClock.Instant.now)
        var recorders = Array(repeating: [StrategyRecorder](), count: suite.strategies.count)
        var timelines = Array(repeating: IntervalTimeline(offsetSeconds: 0, originModelMicros: Self.startMillis * 1_000, modelMicrosPerInterval: 1e6), count: suite.strategies.count)
        var elapsed = Duration.zero
        var model = roundTrip
        // An interval of the record is a model second.
        let intervalNanos = Int64((1e9 / suite.timeScale).rounded())
        for (number, round) in suite.rounds.enumerated() {
            var configuration = suite.engineConfiguration(round: round, baseURL: "http://sandbox.simulated" + suite.sandbox.api.basePath, credentials: credentials)
            let (specs, concurrency) = suite.sessionSpecs(round: round)
            if let receiver {
                receiver.open(round: number, sessionsPerWorker: [specs.count])
                configuration.webhookBaseURL = "http://127.0.0.1/webhooks/\(number)/0"
            }
            let loop = VirtualTimeLoop(service: service, clock: clock, roundTrip: model, start: elapsed, webhooks: receiver)
            let engine = PollingEngine(
                configuration: configuration, sessions: specs, clock: clock, closedConcurrency: concurrency, intervalNanos: intervalNanos, now: { loop.now }
            )
            let roundStart = elapsed
            elapsed = loop.run(engine)
            model = loop.roundTrips
            let timeline = engine.timeline(offsetSeconds: Double(clock.modelMicros(atNanos: roundStart.inNanoseconds) - Self.startMillis * 1_000) / 1e6)
            for (position, strategy) in round.enumerated() {
                recorders[strategy].append(engine.recorders[position])
                timelines[strategy] = timeline
            }
        }
        let wall = ContinuousClock.now - started
        let info = suite.runInfo(
            name: name, startedAt: WallClock.nowMillis(), wallSeconds: wall.inSeconds,
            simulated: true, target: "embedded (simulated)", partial: false
        )
        return suite.record(info: info, recorders: recorders, timelines: timelines, truth: service.truth(now: Int64.max / 4), webhookReceiver: receiver?.counts)
    }

    /// The webhook key of simulated runs (it never leaves the process).
    static let webhookSecret = "simulated-webhook-secret"

}

/// pollbench's version, as results record it.
public enum PollBenchVersionInfo {
    public static let current = "0.1.0"
}
