import Foundation

/// A capacity question: sessions arriving at a rate, with a provider mix, polled by one strategy,
/// under the provider's rate limit.
public struct PlanScenario: Sendable {
    /// Verifications started per second (at the peak being planned for).
    public var arrivalPerSecond: Double
    public var providerMix: [(id: String, weight: Double)]
    public var providers: [Provider] = Provider.catalogue
    public var strategy: PollStrategy
    /// The client's request budget; nil: none.
    public var rateLimit: TokenBucket.Limit?
    public var ttlMillis: Int64 = 300_000
    public var clientTimeoutMillis: Int64 = 300_000
    public var createRetries = 3
    public var seed: UInt64 = 1

    public init(arrivalPerSecond: Double, providerMix: [(id: String, weight: Double)], strategy: PollStrategy, rateLimit: TokenBucket.Limit?) {
        self.arrivalPerSecond = arrivalPerSecond
        self.providerMix = providerMix
        self.strategy = strategy
        self.rateLimit = rateLimit
    }

    /// The scenario at another arrival rate.
    public func at(_ rate: Double) -> PlanScenario {
        var copy = self
        copy.arrivalPerSecond = rate
        return copy
    }
}

/// The answers to a capacity question, from the formulas or from a simulation.
public struct PlanFigures: Sendable, Codable, Equatable {
    /// Sessions in progress at once, in the steady state.
    public var concurrentSessions: Double
    /// Mean requests per second offered.
    public var requestsPerSecond: Double
    /// The 99th percentile of requests in one second.
    public var peakRequestsPerSecond: Double
    /// Share of requests answered 429.
    public var rateLimitedShare: Double
    public var requestsPerSession: Double
    public var pollsPerSession: Double
    /// Mean time from create to the client's last request for the session, seconds.
    public var sessionSeconds: Double
    public var lagP50Millis: Double
    public var lagP99Millis: Double
    /// The largest arrival rate (per second) whose requests fit the limit; nil without a limit.
    public var largestArrivalPerSecond: Double?
}

/// The formulas: each session's path through its strategy, integrated over the user model by
/// quadrature (quantiles of each provider's log-normal delays, weighted by its outcome shares), then
/// Little's law for concurrency, arrival rate × requests per session for load, Poisson one-second
/// windows for the peak and the 429 share (the bucket's burst ignored: conservative).
public struct CapacityAnalysis: Sendable {
    /// Quantiles per delay distribution: 48 × 48 points per provider and outcome.
    static let quadraturePoints = 48
    /// Jittered strategies: this many seeded schedules, averaged.
    static let jitterPaths = 32

    public let scenario: PlanScenario
    /// One round trip, model µs.
    public let roundTripMicros: Int64

    public init(scenario: PlanScenario, roundTripMicros: Int64) {
        self.scenario = scenario
        self.roundTripMicros = roundTripMicros
    }

    /// One session's cost and outcome, for a service end `terminal` µs after creation.
    public struct Path: Sendable, Equatable {
        public var polls: Int
        public var requests: Int
        /// Create sent to the last answer, µs.
        public var lifetime: Int64
        /// Terminal status seen minus reached, µs; nil when the client gave up first.
        public var lag: Int64?
    }

    /// The times (µs after the create is sent) at which a schedule's polls reach the service, up to the client timeout.
    public func pollTimes(_ random: inout SplitMix64) -> [Int64] {
        var schedule = PollSchedule(strategy: scenario.strategy)
        var times: [Int64] = []
        var at = roundTripMicros + schedule.firstDelay(&random) * 1_000
        while at <= scenario.clientTimeoutMillis * 1_000 {
            times.append(at)
            at += roundTripMicros + schedule.nextDelay(after: .notYet, &random) * 1_000
        }
        return times
    }

    /// A polled (QR or push) session whose status turns terminal at `terminal` µs after creation. The
    /// service sees each request half a round trip after it is sent, so the create and every poll are
    /// seen equally late: a poll sent at `t` after the create finds the status as it is at `t` after creation.
    public func polledPath(terminal: Int64, completed: Bool, pollTimes: [Int64]) -> Path {
        var low = 0, high = pollTimes.count  // the first poll at or after the terminal instant
        while low < high {
            let middle = (low + high) / 2
            if pollTimes[middle] < terminal { low = middle + 1 } else { high = middle }
        }
        guard low < pollTimes.count else {
            let last = pollTimes.last.map { $0 + roundTripMicros } ?? roundTripMicros
            return Path(polls: pollTimes.count, requests: 1 + pollTimes.count, lifetime: last, lag: nil)
        }
        let seen = pollTimes[low] + roundTripMicros
        let reads = completed ? 2 : 0
        return Path(polls: low + 1, requests: 1 + low + 1 + reads, lifetime: seen + Int64(reads) * roundTripMicros, lag: seen - roundTripMicros / 2 - terminal)
    }

    /// A redirect session: the client reads the status when the user returns (at `outcome` µs after the
    /// create was sent; nil: never, or after expiry).
    public func redirectPath(outcome: Int64?, completed: Bool) -> Path {
        let timeout = scenario.clientTimeoutMillis * 1_000
        guard let outcome, outcome < timeout else {
            return Path(polls: 0, requests: 2, lifetime: max(2 * roundTripMicros, timeout), lag: nil)
        }
        let seen = max(2 * roundTripMicros, outcome) + roundTripMicros
        let reads = completed ? 2 : 0
        return Path(polls: 1, requests: 3 + reads, lifetime: seen + Int64(reads) * roundTripMicros, lag: seen - outcome)
    }

    /// The figures at the scenario's arrival rate.
    public func figures() -> PlanFigures {
        let mixTotal = scenario.providerMix.reduce(0) { $0 + $1.weight }
        let deterministic = if case .fixed = scenario.strategy { true } else if case .exponential = scenario.strategy { true } else { false }
        var generator = SplitMix64(seed: scenario.seed, key: "plan-schedules")
        let schedules = (0..<(deterministic ? 1 : Self.jitterPaths)).map { _ in pollTimes(&generator) }
        let ttl = scenario.ttlMillis * 1_000
        var totals = (weight: 0.0, polls: 0.0, requests: 0.0, lifetime: 0.0)
        var lags: [(value: Double, weight: Double)] = []
        let quantiles = (0..<Self.quadraturePoints).map { (Double($0) + 0.5) / Double(Self.quadraturePoints) }
        for (id, share) in scenario.providerMix {
            guard let provider = scenario.providers.first(where: { $0.id == id }) else { continue }
            let behaviour = provider.behaviour
            let first = quantiles.map { Int64((behaviour.firstAction.quantile($0) * 1e6).rounded()) }
            let rest = quantiles.map { Int64((behaviour.completion.quantile($0) * 1e6).rounded()) }
            let outcomes: [(completed: Bool, ends: Bool, share: Double)] = [(true, true, behaviour.completed), (false, true, behaviour.failed + behaviour.cancelled), (false, false, behaviour.abandoned)]
            for outcome in outcomes where outcome.share > 0 {
                let weight = share / mixTotal * outcome.share / Double(first.count * rest.count * schedules.count)
                for f in first {
                    for c in rest {
                        for times in schedules {
                            let path: Path
                            if provider.flowType == .redirect {
                                let end = roundTripMicros * 3 / 2 + f + c  // the page is seen opening 1.5 round trips after the create is sent
                                path = redirectPath(outcome: outcome.ends && end < ttl ? end : nil, completed: outcome.completed)
                            } else {
                                let end = outcome.ends ? min(f + c, ttl) : ttl
                                path = polledPath(terminal: end, completed: outcome.completed && f + c < ttl, pollTimes: times)
                            }
                            totals.weight += weight
                            totals.polls += weight * Double(path.polls)
                            totals.requests += weight * Double(path.requests)
                            totals.lifetime += weight * Double(path.lifetime)
                            if let lag = path.lag { lags.append((Double(lag), weight)) }
                        }
                    }
                }
            }
        }
        guard totals.weight > 0 else { return PlanFigures(concurrentSessions: 0, requestsPerSecond: 0, peakRequestsPerSecond: 0, rateLimitedShare: 0, requestsPerSession: 0, pollsPerSession: 0, sessionSeconds: 0, lagP50Millis: 0, lagP99Millis: 0) }
        let requestsPerSession = totals.requests / totals.weight
        let lifetime = totals.lifetime / totals.weight / 1e6
        let rate = scenario.arrivalPerSecond * requestsPerSession
        let limit = scenario.rateLimit?.rate
        return PlanFigures(
            concurrentSessions: scenario.arrivalPerSecond * lifetime,  // Little's law
            requestsPerSecond: rate,
            peakRequestsPerSecond: PoissonWindow.quantile(mean: rate, 0.99),
            rateLimitedShare: limit.map { PoissonWindow.overflowShare(mean: rate, capacity: $0) } ?? 0,
            requestsPerSession: requestsPerSession,
            pollsPerSession: totals.polls / totals.weight,
            sessionSeconds: lifetime,
            lagP50Millis: Self.weightedQuantile(lags, 0.5) / 1_000,
            lagP99Millis: Self.weightedQuantile(lags, 0.99) / 1_000,
            largestArrivalPerSecond: limit.map { $0 / requestsPerSession }
        )
    }

    static func weightedQuantile(_ values: [(value: Double, weight: Double)], _ q: Double) -> Double {
        let sorted = values.sorted { $0.value < $1.value }
        let total = sorted.reduce(0) { $0 + $1.weight }
        var running = 0.0
        for item in sorted {
            running += item.weight
            if running >= q * total { return item.value }
        }
        return sorted.last?.value ?? 0
    }
}

/// Requests in a one-second window as a Poisson count: the peak second and the share over a capacity.
enum PoissonWindow {
    /// The `q` quantile of a Poisson count with this mean (normal approximation above a mean of 50).
    static func quantile(mean: Double, _ q: Double) -> Double {
        guard mean > 0 else { return 0 }
        if mean > 50 { return (mean + NormalDistribution.inverse(q) * mean.squareRoot()).rounded(.up) }
        var k = 0.0, term = exp(-mean), cumulative = term
        while cumulative < q {
            k += 1
            term *= mean / k
            cumulative += term
        }
        return k
    }

    /// E[max(0, X − capacity)] / E[X] for X Poisson with this mean: the share of requests over the capacity.
    static func overflowShare(mean: Double, capacity: Double) -> Double {
        guard mean > 0 else { return 0 }
        if mean > 50 {  // normal approximation: E[(X−c)+] = σφ(z) + (μ−c)(1−Φ(z)), z = (c−μ)/σ
            let sigma = mean.squareRoot(), z = (capacity - mean) / sigma
            let excess = sigma * NormalDistribution.density(z) + (mean - capacity) * (1 - NormalDistribution.cdf(z))
            return max(0, excess) / mean
        }
        var excess = 0.0, term = exp(-mean), k = 0.0
        while k < mean + 12 * mean.squareRoot() + 20 {
            if k > capacity { excess += (k - capacity) * term }
            k += 1
            term *= mean / k
        }
        return excess / mean
    }
}

/// The standard normal distribution.
enum NormalDistribution {
    static func density(_ z: Double) -> Double { exp(-z * z / 2) / (2 * Double.pi).squareRoot() }

    static func cdf(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// Φ⁻¹(p) by Acklam's rational approximation (relative error below 1.2e-9).
    static func inverse(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        let p = min(max(p, 1e-300), 1 - 1e-16)
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low { return -inverse(1 - p) }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}

extension LogNormal {
    /// The value below which a share `p` of samples fall.
    public func quantile(_ p: Double) -> Double {
        median * exp(sigma * NormalDistribution.inverse(p))
    }
}

/// The same question answered by the fast simulation: Poisson arrivals at the rate for long enough to
/// reach the steady state, measured over the seconds between warm-up and the last arrival.
public struct CapacitySimulation: Sendable {
    public let scenario: PlanScenario
    /// Wall time per round trip (the simulation runs at time scale 1: model time is real time).
    public let roundTrip: RoundTripModel
    /// The most sessions one simulated scenario may start.
    public static let maximumSessions = 200_000

    public init(scenario: PlanScenario, roundTrip: RoundTripModel) {
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
        suite.seed = scenario.seed
        suite.sandbox.seed = scenario.seed
        suite.sandbox.providers = scenario.providers
        suite.sandbox.ttlSeconds = Double(scenario.ttlMillis) / 1_000
        suite.timeScale = 1
        suite.strategies = [scenario.strategy]
        suite.rateLimit = scenario.rateLimit
        suite.clientTimeoutMillis = scenario.clientTimeoutMillis
        suite.createRetries = scenario.createRetries
        return suite
    }

    /// The measured figures; `largestArrivalPerSecond` is left nil (see ``largestRate(maxRateLimitedShare:around:)``).
    public func figures() -> PlanFigures {
        let suite = Self.suite(scenario)
        let result = FastSimulation(suite: suite, roundTrip: roundTrip).run()[0]
        let summary = RunRecordBuilder.summary(result.strategy, result.recorder, lag: result.detectionLag, lagUnknown: 0)
        let seconds = result.recorder.seconds
        // Steady state: after one client timeout (every session alive then started after the run did) until the last arrival.
        let lastArrival = Int(Double(suite.workload.sessions) / scenario.arrivalPerSecond)
        let from = min(Int(scenario.clientTimeoutMillis / 1_000), lastArrival / 3)
        let window = from..<max(from + 1, min(lastArrival, seconds.count))
        var active = 0, activeSum = 0, requests: [Int] = [], limited = 0
        for (second, bucket) in seconds.enumerated() {
            active += bucket.started - bucket.ended
            guard window.contains(second) else { continue }
            activeSum += active
            requests.append(bucket.requests)
            limited += bucket.rateLimited
        }
        let total = requests.reduce(0, +)
        requests.sort()
        return PlanFigures(
            concurrentSessions: Double(activeSum) / Double(max(1, requests.count)),
            requestsPerSecond: Double(total) / Double(max(1, requests.count)),
            peakRequestsPerSecond: requests.isEmpty ? 0 : Double(requests[min(requests.count - 1, Int(Double(requests.count) * 0.99))]),
            rateLimitedShare: total == 0 ? 0 : Double(limited) / Double(total),
            requestsPerSession: summary.requestsPerSession,
            pollsPerSession: summary.pollsPerSession.mean,
            sessionSeconds: Double(activeSum) / Double(max(1, requests.count)) / scenario.arrivalPerSecond,  // Little's law read backwards
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
