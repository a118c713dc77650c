@testable import PollBenchRules
import Testing

@Suite("Polling strategies: syntax and seeded math")
struct PollStrategyTests {
    @Test("the compact syntax parses to canonical names that parse back", arguments: [
        ("fixed:3s", "fixed:3s"), ("fixed:500ms", "fixed:500ms"), ("exp:1s,x2,max30s", "exp:1s,x2,max30s"), ("exp:1s", "exp:1s,x2,max30s"),
        ("jitter:full,1s,30s", "jitter:full,1s,30s"), ("jitter:equal,250ms,10s", "jitter:equal,250ms,10s"),
        ("jitter:decorrelated,1s,1m", "jitter:decorrelated,1s,1m"), ("grpc:1s,max30s", "grpc:1s,x1.6,j0.2,max30s"),
        ("exp:1.5s,x1.5,max2m", "exp:1.5s,x1.5,max2m"),
    ])
    func syntax(text: String, canonical: String) throws {
        let strategy = try PollStrategy(parsing: text)
        #expect(strategy.name == canonical)
        #expect(try PollStrategy(parsing: strategy.name) == strategy)
    }

    @Test("bad strategies get a message that names the problem", arguments: [
        ("fixed", "expected KIND:PARAMETERS"), ("fixed:", "bad duration"), ("fixed:3", "bad duration"), ("fixed:-1s", "bad duration"),
        ("fixed:0s", "at least 1ms"), ("fixed:2h", "at most 1h"), ("poll:3s", "unknown strategy 'poll'"), ("exp:x2", "needs an initial"),
        ("exp:1s,x0.5", "multiplier"), ("exp:10s,max1s", "max must be at least"), ("jitter:half,1s,30s", "FORM,BASE,CAP"),
        ("jitter:full,30s,1s", "cap must be at least"), ("grpc:1s,j1.5", "jitter 'j1.5'"), ("exp:1s,2s", "unexpected '2s'"),
    ])
    func errors(text: String, fragment: String) {
        #expect {
            _ = try PollStrategy(parsing: text)
        } throws: { error in
            (error as? StrategySyntaxError)?.description.contains(fragment) == true
        }
    }

    @Test("durations", arguments: [("250ms", Int64(250)), ("3s", 3_000), ("1.5s", 1_500), ("2m", 120_000), ("1h", 3_600_000), ("0ms", 0)])
    func durations(text: String, millis: Int64) {
        #expect(DurationText.milliseconds(text) == millis)
        #expect(DurationText.milliseconds(DurationText.format(millis)) == millis)
    }

    @Test("durations that are not", arguments: ["", "s", "3", "3 s", "-2s", "1e400s", "3sec", "ms", "nanms", "infs"])
    func notDurations(text: String) {
        #expect(DurationText.milliseconds(text) == nil)
    }

    func delays(_ text: String, _ count: Int, seed: UInt64 = 1) throws -> [Int64] {
        var schedule = PollSchedule(strategy: try PollStrategy(parsing: text))
        var random = SplitMix64(seed: seed)
        return [schedule.firstDelay(&random)] + (1..<count).map { _ in schedule.nextDelay(after: .notYet, &random) }
    }

    @Test("fixed and exponential are exact")
    func deterministicForms() throws {
        #expect(try delays("fixed:3s", 4) == [3_000, 3_000, 3_000, 3_000])
        #expect(try delays("exp:1s,x2,max30s", 7) == [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000])
        #expect(try delays("exp:500ms,x1.5,max2s", 5) == [500, 750, 1_125, 1_688, 2_000])
    }

    @Test("full jitter: uniform in [0, min(cap, base·2ⁿ)], mean half of it")
    func fullJitter() throws {
        for attempt in 0..<6 {
            let ceiling = min(30_000, 1_000 << attempt)
            let samples = try (0..<4_000).map { seed in try delays("jitter:full,1s,30s", attempt + 1, seed: UInt64(seed))[attempt] }
            #expect(samples.allSatisfy { (0...Int64(ceiling)).contains($0) })
            let mean = Double(samples.reduce(0, +)) / Double(samples.count)
            #expect(abs(mean - Double(ceiling) / 2) < Double(ceiling) * 0.03)
        }
    }

    @Test("equal jitter: in [c/2, c], mean 3c/4")
    func equalJitter() throws {
        for attempt in 0..<6 {
            let ceiling = Int64(min(30_000, 1_000 << attempt))
            let samples = try (0..<4_000).map { seed in try delays("jitter:equal,1s,30s", attempt + 1, seed: UInt64(seed))[attempt] }
            #expect(samples.allSatisfy { (ceiling / 2...ceiling).contains($0) })
            let mean = Double(samples.reduce(0, +)) / Double(samples.count)
            #expect(abs(mean - Double(ceiling) * 0.75) < Double(ceiling) * 0.02)
        }
    }

    @Test("decorrelated jitter: in [base, min(cap, 3·previous)]")
    func decorrelatedJitter() throws {
        for seed in 0..<500 {
            let run = try delays("jitter:decorrelated,1s,30s", 20, seed: UInt64(seed))
            var previous: Int64 = 1_000
            for delay in run {
                #expect(delay >= 1_000 && delay <= min(30_000, max(1_000, previous * 3)))
                previous = delay
            }
        }
    }

    @Test("gRPC: ×1.6 with ±20 % jitter, capped")
    func grpc() throws {
        for attempt in 0..<8 {
            let centre = Double(min(30_000, Int64((1_000 * pow16(attempt)).rounded())))
            let samples = try (0..<2_000).map { seed in Double(try delays("grpc:1s,max30s", attempt + 1, seed: UInt64(seed))[attempt]) }
            #expect(samples.allSatisfy { $0 >= centre * 0.8 - 1 && $0 <= centre * 1.2 + 1 })
            let mean = samples.reduce(0, +) / Double(samples.count)
            #expect(abs(mean - centre) < centre * 0.02)
        }
    }

    private func pow16(_ n: Int) -> Double { (0..<n).reduce(1.0) { acc, _ in acc * 1.6 } }

    @Test("Retry-After is never undercut, whatever the strategy", arguments: ["fixed:1s", "exp:100ms,x2,max1s", "jitter:full,100ms,1s", "jitter:decorrelated,100ms,1s", "grpc:100ms,max1s"])
    func retryAfter(text: String) throws {
        var schedule = PollSchedule(strategy: try PollStrategy(parsing: text))
        var random = SplitMix64(seed: 3)
        _ = schedule.firstDelay(&random)
        for wait in [Int64(0), 1, 500, 5_000, 60_000] {
            #expect(schedule.nextDelay(after: .retryAfter(millis: wait), &random) >= wait)
        }
    }

    @Test("failures back off: fixed doubles up to 30 s, then resets on success")
    func failures() throws {
        var schedule = PollSchedule(strategy: .fixed(intervalMillis: 3_000))
        var random = SplitMix64(seed: 1)
        _ = schedule.firstDelay(&random)
        let backoff = (0..<5).map { _ in schedule.nextDelay(after: .failed, &random) }
        #expect(backoff == [6_000, 12_000, 24_000, 30_000, 30_000])
        #expect(schedule.nextDelay(after: .notYet, &random) == 3_000)
        #expect(schedule.consecutiveFailures == 0)
    }

    @Test("the same seed replays the same jitter")
    func replay() throws {
        #expect(try delays("jitter:full,1s,30s", 30, seed: 9) == delays("jitter:full,1s,30s", 30, seed: 9))
        #expect(try delays("jitter:full,1s,30s", 30, seed: 9) != delays("jitter:full,1s,30s", 30, seed: 10))
    }
}
