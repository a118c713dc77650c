import Foundation
@testable import PollBenchCore
@testable import PollBenchRules
import Testing

@Suite("Strategy sweeps")
struct StrategySweepTests {
    @Test("ranges, lists and defaults expand into canonical strategies")
    func expand() throws {
        let fixed = try StrategySweep(parsing: "fixed:interval=0.5s..10s/20")
        #expect(fixed.strategies.count == 20 && fixed.varying == ["interval"])
        #expect(fixed.strategies.first == .fixed(intervalMillis: 500) && fixed.strategies.last == .fixed(intervalMillis: 10_000))
        #expect(fixed.strategies.map(\.name).contains("fixed:3s"))

        let exp = try StrategySweep(parsing: "exp:initial=0.5s..2s/4,multiplier=1.5..3/4,max=20s")
        #expect(exp.strategies.count == 16 && Set(exp.varying) == ["initial", "multiplier"])
        #expect(exp.strategies.contains(.exponential(initialMillis: 1_000, multiplier: 2, maxMillis: 20_000)))

        let jitter = try StrategySweep(parsing: "jitter:form=full|equal|decorrelated,cap=10s..30s/3")
        #expect(jitter.strategies.count == 9)
        #expect(jitter.strategies.contains(.jitter(.equal, baseMillis: 1_000, capMillis: 20_000)))

        let grpc = try StrategySweep(parsing: "grpc:x=1.2..2/5")
        #expect(grpc.strategies == [1.2, 1.4, 1.6, 1.8, 2].map { .grpc(initialMillis: 1_000, multiplier: $0, jitter: 0.2, maxMillis: 120_000) })
        #expect(try StrategySweep(parsing: "fixed:interval=3s").strategies == [.fixed(intervalMillis: 3_000)])
    }

    @Test("bad sweeps name the problem", arguments: [
        ("fixed", "expected KIND"), ("poll:interval=1s", "unknown strategy"), ("fixed:period=1s", "PARAMETER one of interval"),
        ("fixed:interval=1s..2s", "LOW..HIGH/COUNT"), ("fixed:interval=5s..1s/3", "LOW <= HIGH"), ("exp:multiplier=0.5..3/3", "multiplier"),
        ("jitter:form=full|sideways", "FORM"), ("exp:initial=1ms..1h/100,multiplier=1..10/100", "at most"),
    ])
    func errors(text: String, fragment: String) {
        #expect(throws: StrategySyntaxError.self) { try StrategySweep(parsing: text) }
        do {
            _ = try StrategySweep(parsing: text)
        } catch {
            #expect(error.description.contains(fragment), "\(error.description)")
        }
    }
}

@Suite("Tuning: frontier, limits and recommendation")
struct TuningTests {
    static func point(_ name: String, requests: Double, p99: Double, offered: Double = 1, timeouts: Int = 0) -> TuningPoint {
        var result = StrategyResult(
            strategy: .fixed(intervalMillis: 1_000), recorder: StrategyRecorder(), timeline: IntervalTimeline(offsetSeconds: 0, originModelMicros: 0, modelMicrosPerInterval: 1e6)
        )
        result.recorder.outcomes[.completed] = 100
        var point = TuningPoint(result, arrivalPerSecond: 1)
        point.strategy = name
        point.requestsPerSession = requests
        point.lagP99 = p99
        point.offeredPerSecond = offered
        point.unfinished = timeouts
        return point
    }

    @Test("a known frontier: dominated points are off it, the cheapest point within target and limit is recommended")
    func knownAnswer() {
        let points = [
            Self.point("a", requests: 5, p99: 9_000), Self.point("b", requests: 6, p99: 10_000),  // b: dearer and slower than a
            Self.point("c", requests: 8, p99: 5_000), Self.point("d", requests: 8, p99: 6_000),  // d: as dear as c, slower
            Self.point("e", requests: 12, p99: 3_000, offered: 50), Self.point("f", requests: 14, p99: 3_500),
            Self.point("g", requests: 20, p99: 1_000), Self.point("h", requests: 9, p99: 3_900, timeouts: 30),
        ]
        let tuning = Tuning(points: points, targetP99: 4_000, limitPerSecond: 40)
        #expect(tuning.frontier.map(\.strategy) == ["a", "c", "h", "e", "g"])
        #expect(tuning.points.filter(\.overLimit).map(\.strategy) == ["e"])
        // h meets the target but gives up on many more sessions; e is over the limit; f is next cheapest.
        #expect(tuning.recommended.map { tuning.points[$0].strategy } == "f")
        #expect(Tuning(points: points, targetP99: 500, limitPerSecond: nil).recommended == nil)
        #expect(Tuning(points: points, targetP99: nil, limitPerSecond: nil).recommended == nil)
        let csv = tuning.csv().split(separator: "\n")
        #expect(csv.count == 9 && csv[6].hasPrefix("\"f\"") && csv[6].hasSuffix(",false,false,true,true"))
    }

    @Test("tune on a fixed sweep: lag grows and cost falls with the interval; a 3.3 s target picks fixed:3s")
    func fixedSweep() async throws {
        var suite = Suite(name: "t", description: "", workload: Workload(sessions: 300, arrival: .constant(perSecond: 3), seed: 1))
        suite.rateLimit = nil  // the sweep's shape without 429s; the limit below only marks the points over it
        let sweep = try StrategySweep(parsing: "fixed:interval=0.5s..10s/20")
        let points = await Tuning.simulate(sweep.strategies, suite: suite, roundTrip: .constant(.milliseconds(1)))
        let tuning = Tuning(points: points, targetP99: 3_300, limitPerSecond: 45)
        #expect(points.map(\.strategy) == sweep.strategies.map(\.name))
        #expect(zip(points, points.dropFirst()).allSatisfy { $0.requestsPerSession > $1.requestsPerSession && ($0.lagP99 ?? .infinity) < ($1.lagP99 ?? .infinity) })
        #expect(tuning.frontier.count == 20)
        #expect(tuning.recommended.map { tuning.points[$0].strategy } == "fixed:3s")
        // At 3 sessions/s only intervals shorter than 3 s offer more than 45 requests/s.
        let over = tuning.points.filter(\.overLimit).map(\.strategy)
        #expect(!over.isEmpty && over.allSatisfy { (try? PollStrategy(parsing: $0)).map { if case .fixed(let i) = $0.polling { i < 3_000 } else { false } } ?? false })
        #expect(tuning.points.allSatisfy { abs($0.offeredPerSecond - 3 * $0.requestsPerSession) < 1e-9 })
    }

    @Test("tune.html: a scatter of every point, the frontier line and the table")
    func report() {
        let points = [Self.point("a", requests: 5, p99: 9_000), Self.point("c", requests: 8, p99: 5_000), Self.point("e", requests: 12, p99: 3_000, offered: 50)]
        let page = TuningReport.render(Tuning(points: points, targetP99: 6_000, limitPerSecond: 40), title: "t", caption: "c")
        #expect(page.contains("Recommended: c"))
        #expect(page.components(separatedBy: " requests, p99 ").count - 1 == 3)  // one labelled dot per point
        #expect(page.contains("over the rate limit") && page.contains("<table class=\"sortable\" id=\"points\">"))
        #expect(page.components(separatedBy: "<tr>").count - 1 == 4)
    }
}

@Suite("Capacity planning: formulas against simulation")
struct CapacityPlanTests {
    static let scenario = PlanScenario(arrivalPerSecond: 2, providerMix: Workload.defaultMix, strategy: .fixed(intervalMillis: 3_000), rateLimit: TokenBucket.Limit(rate: 40, burst: 40))

    @Test("fixed interval, uniform completion times: mean polls (M+1)/2 and mean lag P/2 + RTT/2, the closed forms")
    func closedForm() {
        let rtt: Int64 = 50_000, interval: Int64 = 3_000_000, periods = 20
        var scenario = Self.scenario
        scenario.clientTimeoutMillis = 600_000
        let analysis = CapacityAnalysis(scenario: scenario, roundTripMicros: rtt)
        var random = SplitMix64(seed: 1)
        let times = analysis.pollTimes(&random)
        let period = Double(interval + rtt)
        #expect(times.prefix(3) == [interval + rtt, 2 * (interval + rtt), 3 * (interval + rtt)])
        let n = 100_000
        var polls = 0.0, lag = 0.0
        for j in 0..<n {
            let terminal = Int64((Double(j) + 0.5) / Double(n) * Double(periods) * period)
            let path = analysis.polledPath(terminal: terminal, completed: false, pollTimes: times)
            polls += Double(path.polls)
            lag += Double(path.lag ?? 0)
        }
        #expect(abs(polls / Double(n) - Double(periods + 1) / 2) < 0.001)
        #expect(abs(lag / Double(n) - (period / 2 + Double(rtt) / 2)) < 100)
    }

    @Test("a completed session costs a create, its polls, userinfo and evidence; a session nobody ends times out")
    func paths() {
        let analysis = CapacityAnalysis(scenario: Self.scenario, roundTripMicros: 1_000)
        var random = SplitMix64(seed: 1)
        let times = analysis.pollTimes(&random)
        let done = analysis.polledPath(terminal: 7_000_000, completed: true, pollTimes: times)
        #expect(done.polls == 3 && done.requests == 6 && done.lag == 9_003_000 + 500 - 7_000_000)
        let never = analysis.polledPath(terminal: 400_000_000, completed: false, pollTimes: times)
        #expect(never.lag == nil && never.polls == times.count && never.requests == 1 + times.count)
        #expect(analysis.redirectPath(outcome: 20_000_000, completed: true) == .init(polls: 1, requests: 5, lifetime: 20_001_000 + 2_000, lag: 1_000))
        #expect(analysis.redirectPath(outcome: nil, completed: false).lag == nil)
    }

    @Test("a webhook path: the delivery when it comes before the first poll that sees the end, the poll when the webhook is lost or late")
    func webhookPaths() {
        var scenario = Self.scenario
        scenario.strategy = .webhook(safety: .fixed(intervalMillis: 30_000))
        let analysis = CapacityAnalysis(scenario: scenario, roundTripMicros: 1_000)
        var random = SplitMix64(seed: 1)
        let times = analysis.pollTimes(&random)  // 30.001 s, 60.002 s, …
        #expect(analysis.webhookPath(terminal: 40_000_000, completed: true, pollTimes: times, delay: 200_000) == .init(polls: 1, requests: 4, lifetime: 40_200_500 + 2_000, lag: 200_000))
        let lost = analysis.webhookPath(terminal: 40_000_000, completed: true, pollTimes: times, delay: nil)
        #expect(lost == analysis.polledPath(terminal: 40_000_000, completed: true, pollTimes: times) && lost.lag == 60_002_000 + 500 - 40_000_000)
        #expect(analysis.webhookPath(terminal: 59_990_000, completed: false, pollTimes: times, delay: 2_000_000).polls == 2)  // the poll at 60 s is first
        scenario.strategy = .webhook(safety: nil)
        scenario.webhookTimeoutMillis = 120_000
        var other = SplitMix64(seed: 1)
        #expect(CapacityAnalysis(scenario: scenario, roundTripMicros: 1_000).pollTimes(&other) == [120_000_000])  // its one read
    }

    @Test("Little's law, the request rate and the limit's capacity agree with the simulation", arguments: [
        PollStrategy.fixed(intervalMillis: 3_000), .exponential(initialMillis: 1_000, multiplier: 2, maxMillis: 30_000), .jitter(.full, baseMillis: 1_000, capMillis: 30_000),
        .webhook(safety: .fixed(intervalMillis: 30_000)), .webhook(safety: nil),
    ])
    func agreement(strategy: PollStrategy) throws {
        var scenario = Self.scenario
        scenario.strategy = strategy
        let analytic = CapacityAnalysis(scenario: scenario, roundTripMicros: 1_000).figures()
        let simulation = CapacitySimulation(scenario: scenario, roundTrip: .constant(.milliseconds(1)))
        let simulated = simulation.figures()
        for (name, a, s) in [("concurrency", analytic.concurrentSessions, simulated.concurrentSessions), ("requests/s", analytic.requestsPerSecond, simulated.requestsPerSecond),
                             ("requests/session", analytic.requestsPerSession, simulated.requestsPerSession), ("polls/session", analytic.pollsPerSession, simulated.pollsPerSession)] {
            // Per session, a webhook strategy polls less than once: 6 %, or 0.06 of a poll.
            #expect(abs(a - s) <= max(0.06 * s, name.hasSuffix("/session") ? 0.06 : 0), "\(strategy.name) \(name): formulas \(a), simulation \(s)")
        }
        let (analyticLag, simulatedLag) = (try #require(analytic.lagP50Millis), try #require(simulated.lagP50Millis))
        #expect(abs(analyticLag - simulatedLag) <= 0.1 * simulatedLag + 100)
        let largest = simulation.largestRate(maxRateLimitedShare: 0.01, around: analytic.largestArrivalPerSecond ?? 1)
        #expect(abs(largest - (analytic.largestArrivalPerSecond ?? 0)) <= 0.2 * largest, "\(strategy.name) largest rate: formulas \(analytic.largestArrivalPerSecond ?? 0), simulation \(largest)")
    }

    @Test("Poisson windows and the normal distribution")
    func poisson() {
        #expect(abs(NormalDistribution.inverse(0.975) - 1.959964) < 1e-6)
        #expect(abs(NormalDistribution.inverse(0.01) + 2.326348) < 1e-6)
        #expect(abs(NormalDistribution.cdf(1.959964) - 0.975) < 1e-6)
        #expect(PoissonWindow.quantile(mean: 3, 0.99) == 8)  // P(X <= 7) = 0.988, P(X <= 8) = 0.996
        #expect(PoissonWindow.overflowShare(mean: 10, capacity: 1_000) < 1e-12)
        #expect(abs(PoissonWindow.overflowShare(mean: 1_000, capacity: 500) - 0.5) < 1e-6)
        let log = LogNormal(median: 8, p95: 25)
        #expect(abs(log.quantile(0.5) - 8) < 1e-9 && abs(log.quantile(0.95) - 25) < 1e-6)
    }
}
