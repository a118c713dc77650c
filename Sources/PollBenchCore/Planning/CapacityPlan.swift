import Foundation
import PollBenchRules

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
    /// For a webhook strategy: how the provider delivers (delay, losses), and when a pure `webhook`
    /// session reads the status once (nil: at the client timeout).
    public var webhooks = WebhookConfiguration()
    public var webhookTimeoutMillis: Int64?

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
    /// Detection lag, model ms; nil when no session saw a terminal status.
    public var lagP50Millis: Double?
    public var lagP99Millis: Double?
    /// The largest arrival rate (per second) whose requests fit the limit; nil without a limit.
    public var largestArrivalPerSecond: Double?
}

/// The formulas: each session's path through its strategy, integrated over the user model by
/// quadrature (quantiles of each provider's log-normal delays, weighted by its outcome shares; for a
/// webhook strategy, of the delivery delay too, with the loss share taking the poll's path), then
/// Little's law for concurrency, arrival rate × requests per session for load, Poisson one-second
/// windows for the peak and the 429 share (the bucket's burst ignored: conservative). Webhook retries
/// after a bad signature or an outage are left out.
public struct CapacityAnalysis: Sendable {
    /// Quantiles per delay distribution: 48 × 48 points per provider and outcome.
    static let quadraturePoints = 48
    /// The webhook delivery delay's quantile bands: tenths, then ever finer into the tail that p99 reads.
    static let deliveryBands: [Double] = (0...9).map { Double($0) / 10 } + [0.95, 0.98, 0.99, 0.995, 0.999, 1]
    /// Jittered strategies: this many seeded schedules, averaged.
    static let jitterPaths = 32

    public let scenario: PlanScenario
    /// One round trip, model µs.
    public let roundTripMicros: Int64

    /// An `optimal` strategy is planned for the scenario's users, mix and timeouts.
    public init(scenario: PlanScenario, roundTripMicros: Int64) {
        var scenario = scenario
        scenario.strategy = scenario.strategy.planned(by: OptimalPlanner(scenario: scenario))
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
    public func pollTimes(_ random: inout SplitMix64, provider: String? = nil) -> [Int64] {
        if scenario.strategy == .webhook(safety: nil) {  // its one read, at the webhook timeout
            return [min(scenario.webhookTimeoutMillis ?? scenario.clientTimeoutMillis, scenario.clientTimeoutMillis) * 1_000]
        }
        var schedule = PollSchedule(strategy: scenario.strategy, provider: provider)
        var times: [Int64] = []
        var at = roundTripMicros + schedule.firstDelay(&random) * 1_000
        while at <= scenario.clientTimeoutMillis * 1_000 {
            times.append(at)
            // This poll is answered `at` after the create was answered (a round trip each): a planned schedule keeps to its times.
            at += roundTripMicros + schedule.nextDelay(after: .notYet, elapsedMillis: at / 1_000, &random) * 1_000
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

    /// A polled session of a webhook strategy whose end is delivered `delay` µs after it happens (nil:
    /// lost): the webhook, or the first poll that sees the end, whichever comes first.
    public func webhookPath(terminal: Int64, completed: Bool, pollTimes: [Int64], delay: Int64?) -> Path {
        let polled = polledPath(terminal: terminal, completed: completed, pollTimes: pollTimes)
        // The webhook reaches the client at terminal + delay on the service's clock, half a round trip
        // after the create was sent; a poll's answer is seen a round trip after it reaches the service.
        guard let delay, terminal + delay + roundTripMicros / 2 <= scenario.clientTimeoutMillis * 1_000 else { return polled }
        let seen = terminal + delay + roundTripMicros / 2
        if let lag = polled.lag, lag <= delay { return polled }
        let polls = pollTimes.prefix { $0 < terminal + delay }.count
        let reads = completed ? 2 : 0
        return Path(polls: polls, requests: 1 + polls + reads, lifetime: seen + Int64(reads) * roundTripMicros, lag: delay)
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
        let deterministic = switch scenario.strategy.polling {
        case .jitter, .grpc: false
        case .fixed, .exponential, .optimal, nil: true
        }
        var generator = SplitMix64(seed: scenario.seed, key: "plan-schedules")
        let schedules = (0..<(deterministic ? 1 : Self.jitterPaths)).map { _ in pollTimes(&generator) }
        let ttl = scenario.ttlMillis * 1_000
        var totals = (weight: 0.0, polls: 0.0, requests: 0.0, lifetime: 0.0)
        var lags: [(value: Double, weight: Double)] = []
        let quantiles = (0..<Self.quadraturePoints).map { (Double($0) + 0.5) / Double(Self.quadraturePoints) }
        // A webhook strategy's deliveries: delay quantiles, and the lost share as a nil delay.
        let webhooks = scenario.webhooks
        let deliveries: [(delay: Int64?, share: Double)] = !scenario.strategy.usesWebhooks ? [(nil, 1)]
            : [(nil, webhooks.lossRate)] + zip(Self.deliveryBands, Self.deliveryBands.dropFirst()).map { low, high in
                (Int64((webhooks.delay.quantile((low + high) / 2) * 1_000).rounded()), (1 - webhooks.lossRate) * (high - low))
            }
        for (id, share) in scenario.providerMix {
            guard let provider = scenario.providers.first(where: { $0.id == id }) else { continue }
            let behaviour = provider.behaviour
            // An optimal schedule is the provider's own.
            let schedules = scenario.strategy.optimalSchedule == nil ? schedules : [pollTimes(&generator, provider: id)]
            let first = quantiles.map { Int64((behaviour.firstAction.quantile($0) * 1e6).rounded()) }
            let rest = quantiles.map { Int64((behaviour.completion.quantile($0) * 1e6).rounded()) }
            let outcomes: [(completed: Bool, ends: Bool, share: Double)] = [(true, true, behaviour.completed), (false, true, behaviour.failed + behaviour.cancelled), (false, false, behaviour.abandoned)]
            for outcome in outcomes where outcome.share > 0 {
                let weight = share / mixTotal * outcome.share / Double(first.count * rest.count)
                for f in first {
                    for c in rest {
                        // A redirect session reads its status once, whatever the schedule; a polled one follows each
                        // schedule (alike) and, for a webhook strategy, each delivery delay (by its share).
                        let paths: [(path: Path, weight: Double)]
                        if provider.flowType == .redirect {
                            let end = roundTripMicros * 3 / 2 + f + c  // the page is seen opening 1.5 round trips after the create is sent
                            paths = [(redirectPath(outcome: outcome.ends && end < ttl ? end : nil, completed: outcome.completed), weight)]
                        } else {
                            let end = outcome.ends ? min(f + c, ttl) : ttl
                            paths = schedules.flatMap { times in
                                deliveries.map { delivery in
                                    (webhookPath(terminal: end, completed: outcome.completed && f + c < ttl, pollTimes: times, delay: delivery.delay),
                                     weight / Double(schedules.count) * delivery.share)
                                }
                            }
                        }
                        for (path, each) in paths {
                            totals.weight += each
                            totals.polls += each * Double(path.polls)
                            totals.requests += each * Double(path.requests)
                            totals.lifetime += each * Double(path.lifetime)
                            if let lag = path.lag { lags.append((Double(lag), each)) }
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
