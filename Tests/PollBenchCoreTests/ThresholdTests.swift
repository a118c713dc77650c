import Foundation
@testable import PollBenchCore
@testable import PollBenchRules
import Testing

/// A real record from a small virtual-time run, to evaluate thresholds and comparisons against.
enum SampleRecord {
    static func make(strategies: [String] = ["fixed:3s", "exp:1s,x2,max30s"], seed: UInt64 = 3) throws -> RunRecord {
        let workload = Workload(sessions: 80, arrival: .constant(perSecond: 2), seed: seed)
        let run = try VirtualRun(strategies: strategies, workload: workload)
        run.run()
        let info = RunInfo(
            pollbenchVersion: "test", name: "sample", startedAt: ISO8601Millis.format(VirtualRun.t0), simulated: true, target: "embedded",
            timeScale: 1, mode: "sequential", workload: workload, clientTimeoutMillis: 300_000
        )
        let terminals = Dictionary(uniqueKeysWithValues: run.service.sessionRecords(now: .max / 2).compactMap { r in r.terminalAt.map { (r.verificationId, $0) } })
        return RunRecordBuilder(info: info).build(
            strategies: try strategies.map { try PollStrategy(parsing: $0) }, recorders: run.engine.recorders.map { [$0] },
            timelines: strategies.map { _ in run.engine.timeline(offsetSeconds: 0) }, truth: (terminals, run.service.groundTruth(now: .max / 2))
        ).record
    }
}

@Suite("Thresholds: parsing and evaluation")
struct ThresholdTests {
    @Test("every operator", arguments: [("<", 4_000.0, true), ("<", 1_000, false), ("<=", 3_000, true), (">", 1_000, true), (">=", 9_000, false), ("==", 3_000, true), ("!=", 3_000, false)])
    func operators(op: String, limit: Double, expected: Bool) throws {
        var summary = try #require(try SampleRecord.make().strategies.first)
        summary.detectionLag.p99 = 3_000
        let threshold = try Threshold(parsing: "p99(detection_lag) \(op) \(DurationText.format(Int64(limit)))")
        #expect(threshold.comparison.rawValue == op)
        #expect(threshold.evaluate(summary).passed == expected)
    }

    @Test("every distribution aggregate reads its own figure", arguments: ["min", "mean", "p50", "p90", "p99", "p999", "max"])
    func aggregates(aggregate: String) throws {
        let summary = try #require(try SampleRecord.make().strategies.first)
        let lag = summary.detectionLag
        let expected = ["min": lag.min, "mean": lag.mean, "p50": lag.p50, "p90": lag.p90, "p99": lag.p99, "p999": lag.p999, "max": lag.max][aggregate]
        #expect(try Threshold(parsing: "\(aggregate)(detection_lag) < 1h").measure(summary) == expected)
    }

    @Test("counts, rates, latencies and polls measure what they say")
    func metrics() throws {
        let summary = try #require(try SampleRecord.make().strategies.first)
        #expect(try Threshold(parsing: "count(requests) > 0").measure(summary) == Double(summary.requests))
        #expect(try Threshold(parsing: "count(completed) >= 0").measure(summary) == Double(summary.outcomes["completed"] ?? 0))
        #expect(try Threshold(parsing: "rate(completed) > 50%").measure(summary) == Double(summary.outcomes["completed"] ?? 0) / Double(summary.sessions))
        #expect(try Threshold(parsing: "count(client_timeout) == 0").measure(summary) == Double(summary.outcomes["client-timeout"] ?? 0))
        #expect(try Threshold(parsing: "rate(errors) < 0.1%").measure(summary) == 0)
        #expect(try Threshold(parsing: "count(http_429) == 0").evaluate(summary).passed)
        #expect(try Threshold(parsing: "mean(polls_per_session) <= 100").measure(summary) == summary.pollsPerSession.mean)
        #expect(try Threshold(parsing: "mean(requests_per_session) < 100").measure(summary) == summary.requestsPerSession)
        #expect(try Threshold(parsing: "p99(latency_status) < 1s").measure(summary) == summary.latency["status"]?.fromIntended.p99)
        #expect(try Threshold(parsing: "p99(latency_status_uncorrected) < 1s").measure(summary) == summary.latency["status"]?.fromSent.p99)
        #expect(try Threshold(parsing: "rate(errors) < 0.5").limit == 0.5)
        #expect(try Threshold(parsing: "rate(errors) < 0.1%").limit == 0.001)
        #expect(try Threshold(parsing: " P99( detection_lag )<4s ").limit == 4_000)
    }

    @Test("webhook thresholds read the webhook figures; a poll strategy has no delivery lag to judge")
    func webhookMetrics() throws {
        let polled = try #require(try SampleRecord.make().strategies.first)
        var hooked = polled
        var counts = WebhookCounts()
        counts.rescuedByPoll = 6
        counts.receipts = ["accepted": 90, "bad-signature": 8, "stale": 2]
        counts.notices = ["first": 85, "duplicate": 5]
        hooked.webhooks = WebhookSummary(deliveryLag: hooked.detectionLag, counts: counts, pollsSavedPerSession: 1)
        #expect(try Threshold(parsing: "p99(webhook_delivery_lag) < 2s").measure(hooked) == hooked.detectionLag.p99)
        #expect(try Threshold(parsing: "count(webhook_rescued) == 6").evaluate(hooked).passed)
        #expect(try Threshold(parsing: "rate(webhook_rescued) < 100%").measure(hooked) == 6 / Double(hooked.sessions))
        #expect(try Threshold(parsing: "rate(webhook_refused) < 20%").measure(hooked) == 0.1)
        #expect(try Threshold(parsing: "count(webhook_duplicates) == 5").evaluate(hooked).passed)
        #expect(try Threshold(parsing: "rate(webhook_duplicates) < 1").measure(hooked) == 0.05)
        #expect(try Threshold(parsing: "count(webhook_rescued) == 0").evaluate(polled).passed)
        // No delivery lag is no data, not a 0 that meets any limit.
        #expect(try Threshold(parsing: "p99(webhook_delivery_lag) < 1ms").measure(polled) == nil)
        let unjudged = try Threshold(parsing: "p99(webhook_delivery_lag) < 1ms").evaluate(polled)
        #expect(!unjudged.passed && unjudged.measured == Threshold.noData)
    }

    @Test("bad expressions say what is wrong", arguments: [
        ("detection_lag < 4s", "expected AGGREGATE(METRIC)"), ("p99(detection_lag) 4s", "expected an operator"),
        ("p99(detection_lag) <", "missing the value"), ("p95(detection_lag) < 4s", "unknown aggregate 'p95'"),
        ("p99(lag) < 4s", "unknown distribution 'lag'"), ("p99(detection_lag) < 4", "not a duration"),
        ("count(teapots) == 0", "unknown count 'teapots'"), ("rate(requests) < 1%", "unknown rate 'requests'"),
        ("rate(errors) < 150%", "percentage"), ("rate(errors) < 2", "fraction"), ("count(http_429) < -1", "number of at least 0"),
        ("p99(requests_per_session) < 3", "mean() only"), ("p99(latency_teapot) < 1s", "unknown distribution"),
    ])
    func badExpressions(text: String, fragment: String) {
        #expect {
            _ = try Threshold(parsing: text)
        } throws: { error in
            (error as? ThresholdError)?.description.contains(fragment) == true
        }
    }
}

@Suite("Suite files")
struct SuiteFileTests {
    @Test("seed and time scale have one home: setting either reaches the workload and the embedded sandbox; one range of scales everywhere")
    func oneSource() throws {
        var suite = Suite(name: "s", description: "", workload: Workload(sessions: 5, arrival: .constant(perSecond: 1), seed: 9))
        #expect(suite.seed == 9 && suite.sandbox.seed == 9 && suite.timeScale == 50 && suite.sandbox.timeScale == 50)
        suite.seed = 11
        suite.timeScale = 4
        #expect(suite.workload.seed == 11 && suite.sandbox.seed == 11 && suite.sandbox.timeScale == 4)
        #expect(ModelClock.scaleProblem(1_000) == nil && ModelClock.scaleProblem(0.001) == nil)
        #expect(ModelClock.scaleProblem(1_001) != nil && ModelClock.scaleProblem(0) != nil)
        var configuration = SandboxConfiguration()
        configuration.clients = [.init(id: "C1", secret: "s")]
        #expect(configuration.problem() == nil)
        configuration.timeScale = 5_000
        #expect(configuration.problem()?.hasPrefix("timeScale: must be between 0.001 and 1000") == true)
        #expect(throws: SuiteError.self) { try SuiteReader.parse("name: x\ntimeScale: 5000\n", file: "x.yaml") }
    }

    @Test("a run too large for this machine's memory is refused before it starts, with the figures; the kernel's MemAvailable is read in bytes")
    func memory() throws {
        var suite = Suite(name: "s", description: "", workload: Workload(sessions: 1_000_000, arrival: .constant(perSecond: 1_000), seed: 1))
        suite.strategies = try ["fixed:3s", "fixed:5s"].map { try PollStrategy(parsing: $0) }
        #expect(suite.liveSessionBytes == 2_048_000_000)
        #expect(suite.memoryProblem(available: 2_560_000_000) == nil)  // exactly 80 %
        #expect(suite.memoryProblem(available: nil) == nil)
        let problem = suite.memoryProblem(available: 2_000_000_000)
        #expect(problem?.hasPrefix("1000000 sessions × 2 strategies would hold about 2048 MB (up to 1 KiB a session until the run ends), over 80 % of the 2000 MB") == true, "\(problem ?? "")")
        #expect(AvailableMemory.parse("MemTotal:       24000000 kB\nMemFree:         1000 kB\nMemAvailable:   20000000 kB\n") == 20_480_000_000)
        #expect(AvailableMemory.parse("MemTotal: 1 kB\n") == nil)
        #expect((AvailableMemory.bytes() ?? 0) > 0)
    }

    @Test("one validation of a run's settings: the limits flags and suite files share, checked on the assembled suite")
    func limits() throws {
        var suite = Suite(name: "s", description: "", workload: Workload(sessions: 5, arrival: .constant(perSecond: 1), seed: 1))
        #expect(suite.problem() == nil)
        suite.maxDurationMillis = 2 * 86_400_000
        #expect(suite.problem() == "maxDuration must be from 1s to 24h, not 48h")
        suite.maxDurationMillis = 60_000
        suite.workload.sessions = 1_000_001
        #expect(suite.problem() == "sessions must be from 1 to 1000000, not 1000001")
        suite.workload.sessions = 5
        suite.workers = 17
        #expect(suite.problem()?.hasPrefix("workers must be from 1 to 16") == true)
        // A suite file meets the same bound, with its place in the file.
        #expect(throws: SuiteError(file: "x.yaml", line: 2, problem: "'maxDuration' must be at most 24h")) { try SuiteReader.parse("name: x\nmaxDuration: 25h\n", file: "x.yaml") }
    }

    @Test("a full suite reads into its settings")
    func reads() throws {
        let suite = try SuiteReader.parse("""
        name: gate
        description: test suite
        seed: 7
        timeScale: 20
        mode: mixed
        clientTimeout: 2m
        webhookTimeout: 1m
        createRetries: 1
        workers: 2
        maxDuration: 90s
        workload:
          sessions: 50
          arrival: poisson:4
          ramp: 10s
          providers: {bankidse: 2, mitid: 1}
        strategies: [fixed:2s, "grpc:1s,max30s"]
        sandbox:
          ttl: 4m
          api: connect-v1
          rateLimit: {rate: 30, burst: 60}
          endpointLimits: {status: {rate: 20}}
          faults:
            serverErrorRate: 5%
            closeRate: 0.01
            latency: {rate: 0.5, median: 20ms, p95: 200ms}
            outages: [{provider: bankidse, from: 30s, to: 60s}]
          webhooks:
            notifyPending: true
            delay: {median: 100ms, p99: 1s}
            retries: [2s, 10s]
            lossRate: 5%
            duplicateRate: 0.02
            outOfOrderRate: 1%
            badSignatureRate: 0.01
            outages: [{from: 10s, to: 20s}]
            timeout: 3s
        thresholds:
          - p99(detection_lag) < 4s
          - {strategy: fixed:2s, check: mean(polls_per_session) <= 25}
        compare: {tolerance: 10%}
        capacity: {rates: [1, 2, 4]}
        """, file: "gate.yaml")
        #expect(suite.name == "gate" && suite.seed == 7 && suite.timeScale == 20 && suite.mixed)
        #expect(suite.sandbox.seed == 7 && suite.sandbox.timeScale == 20)  // one value each, wherever it is read
        #expect(suite.clientTimeoutMillis == 120_000 && suite.createRetries == 1 && suite.workers == 2 && suite.maxDurationMillis == 90_000)
        #expect(suite.workload.sessions == 50 && suite.workload.arrival == .poisson(perSecond: 4) && suite.workload.rampSeconds == 10 && suite.workload.seed == 7)
        #expect(suite.workload.providerMix.map(\.id) == ["bankidse", "mitid"])
        #expect(suite.strategies.map(\.name) == ["fixed:2s", "grpc:1s,x1.6,j0.2,max30s"])
        #expect(suite.sandbox.ttlSeconds == 240 && suite.sandbox.faults.serverErrorRate == 0.05 && suite.sandbox.faults.outages.count == 1)
        #expect(suite.sandbox.api == .connectV1)
        #expect(suite.sandbox.faults.latency?.millis == LogNormal(median: 20, p95: 200))
        #expect(suite.rateLimit == TokenBucket.Limit(rate: 30, burst: 60) && suite.endpointLimits["status"] == TokenBucket.Limit(rate: 20, burst: 20))
        #expect(suite.checks.count == 2 && suite.checks[1].strategy == "fixed:2s")
        #expect(suite.tolerance == 0.1 && suite.capacityRates == [1, 2, 4])
        let webhooks = suite.sandbox.webhooks
        #expect(suite.webhookTimeoutMillis == 60_000 && webhooks.notifyPending && webhooks.delay == LogNormal(median: 100, p99: 1_000))
        #expect(webhooks.retryDelaysSeconds == [2, 10] && webhooks.lossRate == 0.05 && webhooks.duplicateRate == 0.02 && webhooks.outOfOrderRate == 0.01)
        #expect(webhooks.badSignatureRate == 0.01 && webhooks.outages == [.init(fromSeconds: 10, toSeconds: 20)] && webhooks.timeoutMillis == 3_000)
    }

    @Test("the embedded sandbox's budget: the documented default unless a suite sets one or says none")
    func budget() throws {
        #expect(try SuiteReader.parse("name: a\ndescription: x\n", file: "a.yaml").rateLimit == TokenBucket.Limit(rate: 25, burst: 25))
        #expect(try SuiteReader.parse("name: b\ndescription: x\nsandbox: {rateLimit: none}\n", file: "b.yaml").rateLimit == nil)
        #expect(try SuiteReader.parse("name: c\ndescription: x\nsandbox: {rateLimit: {rate: 5}}\n", file: "c.yaml").rateLimit == TokenBucket.Limit(rate: 5, burst: 5))
    }

    @Test("errors name the file, the line and the problem", arguments: [
        ("name: x\nworkload:\n  sesions: 10\n", 3, "unknown key 'sesions' in 'workload'"),
        ("name: x\nclientTimeout: soon\n", 2, "bad duration 'soon'"),
        ("name: x\nstrategies:\n  - fixed:3s\n  - poll:1s\n", 4, "unknown strategy 'poll'"),
        ("name: x\nthresholds:\n  - p99(detection_lag) < 4\n", 3, "not a duration"),
        ("name: x\nthresholds:\n  - {strategy: fixed:9s, check: count(error) == 0}\n", 3, "not one of the suite's strategies"),
        ("name: x\nmode: parallel\n", 2, "mode must be sequential or mixed"),
        ("name: x\nworkload:\n  arrival: burst:3\n", 3, "unknown model 'burst'"),
        ("name: x\nsandbox:\n  endpointLimits: {polls: {rate: 1}}\n", 3, "unknown endpoint 'polls'"),
        ("name: x\nsandbox:\n  faults: {closeRate: 2}\n", 3, "percentage"),
        ("name: [unclosed\n", 2, "not valid YAML"),
        ("name: x\ntimeScale: 0\n", 2, "'timeScale' must be a number"),
        ("name: x\ncapacity: {rates: [4, 2]}\n", 2, "capacity rates must go up"),
        ("name: x\nsandbox:\n  webhooks: {outOfOrderRate: 0.1}\n", 3, "needs notifyPending"),
        ("name: x\nsandbox:\n  webhooks: {retries: [soon]}\n", 3, "a retry delay is a duration"),
        ("name: x\nsandbox:\n  webhooks: {lossrate: 0.1}\n", 3, "unknown key 'lossrate'"),
    ])
    func errors(text: String, line: Int, fragment: String) {
        #expect {
            _ = try SuiteReader.parse(text, file: "bad.yaml")
        } throws: { error in
            guard let error = error as? SuiteError else { return false }
            return error.file == "bad.yaml" && error.line == line && error.description.hasPrefix("bad.yaml:\(line): ") && error.problem.contains(fragment)
        }
    }

    @Test("capacity steps of a fixed length run rate × stepSeconds sessions at that rate; a step over the session limit is refused")
    func capacitySteps() throws {
        let suite = try ShippedSuite.load("client-capacity")
        #expect(suite.capacityStepSeconds == 60 && suite.capacityRates.first == 25)
        let step = suite.capacityStep(at: 400)
        #expect(step.workload.sessions == 24_000 && step.workload.arrival == .constant(perSecond: 400))
        #expect(suite.problem() == nil)
        var tooLong = suite
        tooLong.capacityRates = [25, 20_000]
        #expect(tooLong.problem() == "a capacity step of 60 s at the highest rate would run 1200000 sessions, over 1000000")
        var unsized = suite
        unsized.capacityStepSeconds = nil
        #expect(unsized.capacityStep(at: 400).workload.sessions == suite.workload.sessions)
        // The largest step's memory is what a search is refused on, before its first step.
        #expect(suite.memoryProblem(available: 100_000_000)?.hasPrefix("96000 sessions × 1 strategies") == true)
        #expect(suite.memoryProblem(available: 1_000_000_000) == nil)
    }

    @Test("every shipped suite reads", arguments: ["smoke", "release", "rate-limit", "capacity", "client-capacity", "faults", "webhook-faults"])
    func shipped(name: String) throws {
        let suite = try ShippedSuite.load(name)
        #expect(suite.name == name)
        #expect(!suite.description.isEmpty)
        #expect(!suite.checks.isEmpty)
    }
}

@Suite("Comparing runs")
struct RunComparisonTests {
    @Test("identical runs are unchanged; a slower, costlier run regresses; a faster one improves")
    func verdicts() throws {
        let base = try SampleRecord.make()
        #expect(!RunComparison(base: base, new: base, tolerance: 0.05).hasRegression)
        #expect(RunComparison(base: base, new: base, tolerance: 0.05).rows.allSatisfy { $0.verdict == .unchanged })

        var worse = base
        worse.strategies[0].detectionLag.p99 = try #require(worse.strategies[0].detectionLag.p99) * 1.2
        worse.strategies[0].requestsPerSession *= 1.03
        let comparison = RunComparison(base: base, new: worse, tolerance: 0.05)
        let verdicts = Dictionary(uniqueKeysWithValues: comparison.rows.filter { $0.strategy == "fixed:3s" }.map { ($0.metric, $0.verdict) })
        #expect(verdicts["detection lag p99"] == .regressed)
        #expect(verdicts["requests / session"] == .unchanged)  // +3 % is within 5 %
        #expect(comparison.hasRegression)

        var better = base
        better.strategies[1].detectionLag.p50 = try #require(better.strategies[1].detectionLag.p50) * 0.5
        better.strategies[1].outcomes["completed", default: 0] += 5
        let improved = RunComparison(base: base, new: better, tolerance: 0.05).rows.filter { $0.strategy == "exp:1s,x2,max30s" }
        #expect(improved.first { $0.metric == "detection lag p50" }?.verdict == .improved)
        #expect(improved.first { $0.metric == "completed share" }?.verdict == .improved)
    }

    @Test("a count that was zero regresses when it appears")
    func fromZero() throws {
        let base = try SampleRecord.make()
        var new = base
        new.strategies[0].rateLimited = 3
        let row = RunComparison(base: base, new: new, tolerance: 0.05).rows.first { $0.strategy == "fixed:3s" && $0.metric == "429s" }
        #expect(row?.verdict == .regressed && row?.change == nil)
    }

    @Test("Markdown: a table with a row per strategy and metric, and strategies found in one run only")
    func markdown() throws {
        let base = try SampleRecord.make()
        let other = try SampleRecord.make(strategies: ["fixed:3s", "jitter:full,1s,30s"])
        let text = RunComparison(base: base, new: other, tolerance: 0.1).markdown(baseName: "base", newName: "new")
        #expect(text.hasPrefix("## pollbench: new vs base"))
        #expect(text.contains("| strategy | metric | base | new | change | verdict |"))
        #expect(text.contains("| fixed:3s | detection lag p99 |"))
        #expect(text.contains("In one run only: exp:1s,x2,max30s, jitter:full,1s,30s"))
        #expect(text.contains("tolerance 10%"))
    }
}

/// The suites shipped in `Benchmarks/suites`.
enum ShippedSuite {
    static func load(_ name: String) throws -> Suite {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Benchmarks/suites/\(name).yaml")
        return try SuiteReader.parse(String(contentsOf: url, encoding: .utf8), file: url.path)
    }
}
