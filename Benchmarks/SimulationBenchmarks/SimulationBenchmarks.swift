import Benchmark
import PollBenchCore
import PollBenchRules

/// Speed of the fast simulation that `tune` and `plan` sweep with: simulated status polls per second
/// of wall time on one core. Run with `swift package --package-path Benchmarks --allow-writing-to-package-directory benchmark --target SimulationBenchmarks`.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal, polls, requests], maxDuration: .seconds(10), maxIterations: 20)

    Benchmark("fixed:1s, 20,000 sessions (smartid, 50/s)") { benchmark in
        simulate(benchmark, strategy: .fixed(intervalMillis: 1_000), rateLimit: nil)
    }
    Benchmark("fixed:3s, 20,000 sessions, 40/s budget") { benchmark in
        simulate(benchmark, strategy: .fixed(intervalMillis: 3_000), rateLimit: TokenBucket.Limit(rate: 40, burst: 40))
    }
    Benchmark("jitter:decorrelated,500ms,20s, 20,000 sessions") { benchmark in
        simulate(benchmark, strategy: .jitter(.decorrelated, baseMillis: 500, capMillis: 20_000), rateLimit: nil)
    }
    // Webhooks: each session's deliveries are planned, queued and taken besides its requests (read requests/s).
    Benchmark("webhook+fixed:1s, 20,000 sessions") { benchmark in
        simulate(benchmark, strategy: .webhook(safety: .fixed(intervalMillis: 1_000)), rateLimit: nil)
    }
}

/// Simulated status polls per wall second, in thousands.
let polls = BenchmarkMetric.custom("simulated polls/s (k)", polarity: .prefersLarger, useScalingFactor: false)
/// Simulated requests of every kind per wall second, in thousands: the work a shape with many creates
/// or 429s does beside its polls.
let requests = BenchmarkMetric.custom("simulated requests/s (k)", polarity: .prefersLarger, useScalingFactor: false)

func simulate(_ benchmark: Benchmark, strategy: PollStrategy, rateLimit: TokenBucket.Limit?) {
    var suite = Suite(name: "bench", description: "", workload: Workload(sessions: 20_000, arrival: .constant(perSecond: 50), providerMix: [("smartid", 1)], seed: 1))
    suite.strategies = [strategy]
    suite.rateLimit = rateLimit
    let simulation = FastSimulation(suite: suite, roundTrip: .constant(.milliseconds(1)))
    let started = ContinuousClock.now
    benchmark.startMeasurement()
    let results = simulation.run()
    benchmark.stopMeasurement()
    let seconds = (ContinuousClock.now - started).inSeconds
    let statusPolls = results[0].recorder.counters.byEndpoint["status"]?.values.reduce(0, +) ?? 0
    benchmark.measurement(polls, Int(Double(statusPolls) / seconds / 1_000))
    benchmark.measurement(requests, Int(Double(results[0].recorder.counters.requests) / seconds / 1_000))
    blackHole(results)
}
