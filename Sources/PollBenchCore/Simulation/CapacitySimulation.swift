/// The same question answered by the fast simulation: Poisson arrivals at the rate for long enough to
/// reach the steady state, measured over the seconds between warm-up and the last arrival.
public struct CapacitySimulation: Sendable {
    public let scenario: PlanScenario
    /// Wall time per round trip (the simulation runs at time scale 1: model time is real time).
    public let roundTrip: RoundTrips
    /// The most sessions one simulated scenario may start.
    public static let maximumSessions = 200_000

    public init(scenario: PlanScenario, roundTrip: RoundTrips) {
        self.scenario = scenario
        self.roundTrip = roundTrip
    }

    /// The suite that simulates `scenario`: arrivals over three client timeouts (at least 600 s), so that the
    /// middle third onwards is steady.
    public static func suite(_ scenario: PlanScenario) -> Suite {
        let span = max(600, 3 * Double(scenario.clientTimeoutMillis) / 1_000)
        let sessions = min(maximumSessions, max(200, Int((scenario.arrivalPerSecond * span).rounded())))
        var suite = Suite(name: "plan", description: "", workload: Workload(
            sessions: sessions, arrival: .poisson(perSecond: scenario.arrivalPerSecond), providerMix: scenario.providerMix, seed: scenario.seed
        ))
        suite.sandbox.providers = scenario.providers
        suite.sandbox.ttlSeconds = Double(scenario.ttlMillis) / 1_000
        suite.timeScale = 1
        suite.strategies = [scenario.strategy]
        suite.rateLimit = scenario.rateLimit
        suite.clientTimeoutMillis = scenario.clientTimeoutMillis
        suite.webhookTimeoutMillis = scenario.webhookTimeoutMillis
        suite.sandbox.webhooks = scenario.webhooks
        suite.createRetries = scenario.createRetries
        return suite
    }

    /// The measured figures; `largestArrivalPerSecond` is left nil (see ``largestRate(maxRateLimitedShare:around:)``).
    public func figures() -> PlanFigures {
        let suite = Self.suite(scenario)
        let result = FastSimulation(suite: suite, roundTrip: roundTrip).run()[0]
        let summary = RunRecordBuilder.summary(result.strategy, result.recorder, lagUnknown: 0)
        let seconds = result.recorder.seconds
        // Steady state: after one client timeout (every session alive then started after the run did) until the last arrival.
        let lastArrival = Int(Double(suite.workload.sessions) / scenario.arrivalPerSecond)
        let from = min(Int(scenario.clientTimeoutMillis / 1_000), lastArrival / 3)
        let window = from..<max(from + 1, min(lastArrival, seconds.count))
        var active = 0, activeSum = 0
        var steady: [SecondBucket] = []
        for (second, bucket) in seconds.enumerated() {
            active += bucket.started - bucket.ended
            guard window.contains(second) else { continue }
            activeSum += active
            steady.append(bucket)
        }
        let total = steady.reduce(0) { $0 + $1.requests }, limited = steady.reduce(0) { $0 + $1.rateLimited }
        let length = Double(max(1, steady.count))
        let concurrency = Double(activeSum) / length
        return PlanFigures(
            concurrentSessions: concurrency,
            requestsPerSecond: Double(total) / length,
            peakRequestsPerSecond: steady.peakRequestsPerSecond,
            rateLimitedShare: total == 0 ? 0 : Double(limited) / Double(total),
            requestsPerSession: summary.requestsPerSession,
            pollsPerSession: summary.pollsPerSession.mean ?? 0,
            sessionSeconds: concurrency / scenario.arrivalPerSecond,  // Little's law read backwards
            lagP50Millis: summary.detectionLag.p50,
            lagP99Millis: summary.detectionLag.p99
        )
    }

    /// The largest arrival rate whose simulated 429 share stays within `maxRateLimitedShare`, found by
    /// bisection between a quarter and twice `around` (the formulas' answer) to within 2 %.
    public func largestRate(maxRateLimitedShare: Double, around: Double) -> Double {
        var low = around / 4, high = around * 2
        let fits = { (rate: Double) in CapacitySimulation(scenario: scenario.at(rate), roundTrip: roundTrip).figures().rateLimitedShare <= maxRateLimitedShare }
        guard fits(low) else { return 0 }
        if fits(high) { return high }
        while (high - low) / high > 0.02 {
            let middle = (low + high) / 2
            if fits(middle) { low = middle } else { high = middle }
        }
        return low
    }
}
