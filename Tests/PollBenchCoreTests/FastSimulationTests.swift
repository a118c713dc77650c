@testable import PollBenchCore
@testable import PollBenchRules
import Testing

@Suite("Fast simulation: the session machine against the service rules, without documents")
struct FastSimulationTests {
    static func suite(sessions: Int = 300, arrival: ArrivalModel = .constant(perSecond: 3), strategies: [PollStrategy] = PollStrategy.defaultComparison, seed: UInt64 = 1) -> Suite {
        var suite = Suite(name: "fast", description: "", workload: Workload(sessions: sessions, arrival: arrival, seed: seed))
        suite.strategies = strategies
        return suite
    }

    @Test("the same seed gives the same measurements, bit for bit; another seed does not")
    func determinism() {
        let first = FastSimulation(suite: Self.suite(), roundTrip: .constant(.milliseconds(2))).summaries()
        #expect(first == FastSimulation(suite: Self.suite(), roundTrip: .constant(.milliseconds(2))).summaries())
        #expect(first != FastSimulation(suite: Self.suite(seed: 2), roundTrip: .constant(.milliseconds(2))).summaries())
    }

    @Test("every session ends in exactly one outcome and requests add up", arguments: [false, true])
    func accounting(mixed: Bool) {
        var suite = Self.suite(sessions: 200)
        suite.mixed = mixed
        for summary in FastSimulation(suite: suite, roundTrip: .constant(.milliseconds(1))).summaries() {
            #expect(summary.outcomes.values.reduce(0, +) == 200)
            let answered = summary.responses.values.flatMap(\.values).reduce(0, +)
            #expect(answered == summary.requests)
            let completed = summary.outcomes["completed"] ?? 0
            #expect(summary.responses["userinfo"]?.values.reduce(0, +) == completed)
            #expect(summary.responses["status"]?.values.reduce(0, +) == Int((summary.pollsPerSession.mean ?? -1) * Double(summary.pollsPerSession.count) + 0.5))
        }
    }

    /// The test of the design: both simulations drive the same ``SessionMachine`` against the same
    /// ``ServiceRules``, so on the same suite and seed they must count the same requests by endpoint and
    /// status, end the same sessions the same way and see the same detection lag, value for value,
    /// interval for interval: with faults, with a budget shared by simultaneous requests, and all
    /// strategies at once. (The shipped suites, on fewer sessions to keep the test short, with an `optimal`
    /// schedule beside their strategies; every session's row in sessions.csv agrees too.)
    @Test("the fast simulation gives the engine simulation's counts and detection-lag histograms exactly", arguments: [
        ("release", false), ("faults", false), ("rate-limit", false), ("faults", true), ("rate-limit", true), ("webhook-faults", false), ("webhook-faults", true),
    ])
    func agreesWithEngine(name: String, mixed: Bool) throws {
        var suite = try ShippedSuite.load(name)
        suite.workload.sessions = 120
        suite.mixed = mixed
        suite.strategies.append(try PollStrategy(parsing: "optimal:p99=3s"))
        let fast = FastSimulation(suite: suite, roundTrip: .constant(.milliseconds(1)), keepsIntervals: true).record(name: "fast")
        let engine = Simulation(suite: suite, roundTrip: .constant(.milliseconds(1)), name: "engine").run()
        #expect(engine.record.groundTruthDifferences.isEmpty)
        for (f, e) in zip(fast.record.strategies, engine.record.strategies) {
            #expect(Self.countsAndLag(f) == Self.countsAndLag(e), "\(name) \(f.name)")
            #expect(f.requests > 0 && f.detectionLag.count > 0)
        }
        // Create times from each strategy's first: after a webhook round the runners start the next round
        // at different model times (the engine's loop outlives a round's last webhook differently).
        let fastRows = Self.fromRoundStart(SessionsCSV.rows(fast.results)), engineRows = Self.fromRoundStart(SessionsCSV.rows(engine.results))
        #expect(fastRows == engineRows, "first difference: \(zip(fastRows, engineRows).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "in count")")
        #expect(fastRows.count == 120 * suite.strategies.count)
        for (f, e) in zip(fast.results, engine.results) {
            #expect(f.detectionLag == e.detectionLag)
            let fastIntervals = f.recorder.encodedIntervals(.detectionLag), engineIntervals = e.recorder.encodedIntervals(.detectionLag)
            #expect(fastIntervals.map(\.interval) == engineIntervals.map(\.interval))
            #expect(fastIntervals.map { HistogramLog.decodeCompressed($0.encoded) } == engineIntervals.map { HistogramLog.decodeCompressed($0.encoded) })
        }
        if name == "faults" {  // the faults happened, and were counted as the same kinds
            let counted = fast.record.strategies.reduce(into: [String: Int]()) { $0.merge($1.transportErrors, uniquingKeysWith: +) }
            #expect(counted["truncated", default: 0] > 0 && counted.keys.allSatisfy { $0 == "truncated" })
        }
        if name == "rate-limit" { #expect(fast.record.strategies.allSatisfy { $0.rateLimited > 0 }) }
        if name == "webhook-faults" {  // the webhook faults happened, and both saw them the same
            let counts = fast.record.strategies.compactMap(\.webhooks?.counts)
            #expect(counts.count == 3 && counts.allSatisfy { $0.notices["first", default: 0] > 0 })  // the optimal strategy asks for none
            #expect(counts.contains { $0.receipts["bad-signature", default: 0] > 0 } && counts.contains { $0.retriesSeen > 0 })
            #expect(counts.contains { $0.notices["duplicate", default: 0] > 0 })
            #expect((engine.record.sandboxWebhooks?.lost ?? 0) > 0)
            #expect((engine.record.sandboxWebhooks?.inOutage ?? 0) > 0 || !mixed)  // the outage window falls in the first round's time
        }
    }

    @Test("under webhook-faults the safety poll ends every session whose webhook was lost, as fixed polling does; webhook alone waits for its timeout read")
    func safetyPollRescues() throws {
        let record = Simulation(suite: try ShippedSuite.load("webhook-faults"), roundTrip: .constant(.milliseconds(1)), name: "rescue").run().record
        let byName = Dictionary(uniqueKeysWithValues: record.strategies.map { ($0.name, $0) })
        let polled = try #require(byName["fixed:3s"]), hybrid = try #require(byName["webhook+fixed:30s"]), webhook = try #require(byName["webhook"])
        #expect((record.sandboxWebhooks?.lost ?? 0) >= 10)
        #expect(hybrid.outcomes == polled.outcomes)  // every session ends as it does under polling
        #expect((hybrid.webhooks?.counts.rescuedByPoll ?? 0) > 0 && (hybrid.detectionLag.max ?? .infinity) < 31_000)  // a lost webhook costs one safety interval at most
        #expect((webhook.detectionLag.p99 ?? 0) > 200_000)  // the lost ones wait for the read at the webhook timeout (the client timeout)
        let verdicts = Dictionary(grouping: record.thresholds, by: \.strategy).mapValues { $0.allSatisfy(\.passed) }
        #expect(verdicts == ["fixed:3s": true, "webhook+fixed:30s": true, "webhook+exp:5s,x2,max1m": true, "webhook": false])
        #expect(record.groundTruthDifferences.isEmpty)
    }

    /// `rows` with each create time counted from its strategy's first.
    static func fromRoundStart(_ rows: [SessionRow]) -> [SessionRow] {
        let starts = Dictionary(rows.map { ($0.strategy, $0.createdMillis) }, uniquingKeysWith: min)
        return rows.map { var row = $0; row.createdMillis -= starts[row.strategy] ?? 0; return row }
    }

    /// A summary without what only a run in wall time measures (request latency, schedule slip).
    static func countsAndLag(_ summary: StrategySummary) -> StrategySummary {
        var copy = summary
        copy.latency = [:]
        copy.scheduleSlip = Distribution(Histograms.micros(), unit: "wall-ms", divisor: 1_000)
        return copy
    }

    @Test("a closed workload keeps its concurrency and runs every session")
    func closed() {
        let result = FastSimulation(suite: Self.suite(sessions: 100, arrival: .closed(concurrency: 10), strategies: [.fixed(intervalMillis: 2_000)]), roundTrip: .constant(.milliseconds(1))).run()[0]
        #expect(result.recorder.outcomes.values.reduce(0, +) == 100)
        // Never more than ten at once: the sessions open at the end of each model second.
        var open = 0
        for bucket in result.recorder.seconds {
            open += bucket.started - bucket.ended
            #expect(open <= 10)
        }
        #expect(result.recorder.seconds.first?.started == 10)
    }

    @Test("faults are survived: 5xx and cut connections back off, an outage fails creates that run out of retries")
    func faults() {
        var suite = Self.suite(sessions: 200, strategies: [.fixed(intervalMillis: 3_000)])
        suite.sandbox.faults.serverErrorRate = 0.05
        suite.sandbox.faults.closeRate = 0.02
        suite.sandbox.faults.outages = [.init(provider: "bankidse", fromSeconds: 0, toSeconds: 1_000)]
        suite.createRetries = 1
        let summary = FastSimulation(suite: suite, roundTrip: .constant(.milliseconds(1))).summaries()[0]
        #expect(summary.outcomes.values.reduce(0, +) == 200)
        #expect((summary.outcomes["error"] ?? 0) > 50)  // bankidse is 3/8 of the mix and down throughout
        #expect((summary.responses["status"]?["500"] ?? 0) > 0)
        #expect((summary.transportErrors["truncated"] ?? 0) > 0)
    }
}

@Suite("The fast simulation's event queue")
struct EventQueueTests {
    @Test("pops in (time, session) order, whatever the mix of near, far, equal and interleaved pushes", arguments: [UInt64(1), 2, 3])
    func order(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var queue = EventQueue()
        var pending: [Event] = []
        var now: Int64 = 0
        var mismatches = 0
        for _ in 0..<20_000 {
            if random.next() % 3 != 0 || pending.isEmpty {
                // As in a simulation, nothing is scheduled before now: mostly within the ring, sometimes far beyond it, sometimes now.
                let ahead: Int64 = switch random.next() % 4 {
                case 0: 0
                case 1: Int64(random.next() % 5_000)
                case 2: Int64(random.next() % 3_000_000)
                default: Int64(random.next() % 120_000_000)
                }
                let event = Event(at: now + ahead, session: Int32(random.next() % 50))
                queue.push(event)
                pending.append(event)
            } else if let expected = pending.min(), let index = pending.firstIndex(of: expected) {
                pending.remove(at: index)
                if queue.popMin() != expected { mismatches += 1 }
                now = expected.at
            }
        }
        #expect(mismatches == 0)
        for expected in pending.sorted() where queue.popMin() != expected { mismatches += 1 }
        #expect(mismatches == 0)
        #expect(queue.popMin() == nil && queue.peek() == nil)
    }

    @Test("every event pushed comes out once, sorted")
    func sorted() {
        var random = SplitMix64(seed: 9)
        let events = (0..<5_000).map { _ in Event(at: Int64(random.next() % 50_000_000), session: Int32(random.next() % 1_000)) }
        var queue = EventQueue()
        for event in events { queue.push(event) }
        var out: [Event] = []
        while let next = queue.popMin() { out.append(next) }
        #expect(out == events.sorted())
    }
}
