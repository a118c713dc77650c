import Testing
@testable import PollBenchCore

@Suite("Fast simulation at the level of the behaviour model")
struct FastSimulationTests {
    static func suite(sessions: Int = 300, arrival: ArrivalModel = .constant(perSecond: 3), strategies: [PollStrategy] = PollStrategy.defaultComparison, seed: UInt64 = 1) -> Suite {
        var suite = Suite(name: "fast", description: "", workload: Workload(sessions: sessions, arrival: arrival, seed: seed))
        suite.seed = seed
        suite.sandbox.seed = seed
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
            #expect(summary.responses["status"]?.values.reduce(0, +) == Int(summary.pollsPerSession.mean * Double(summary.pollsPerSession.count) + 0.5))
        }
    }

    /// The fast path leaves out the documents, not the behaviour: on the release workload it agrees with
    /// the engine simulation on what `tune` and `plan` read.
    @Test("agrees with the engine's simulation within 5 % on polls, lag p50/p90 and requests per session", arguments: [false, true])
    func agreesWithEngine(rateLimited: Bool) {
        var suite = Self.suite(sessions: 300, arrival: rateLimited ? .constant(perSecond: 4) : .constant(perSecond: 3))
        if rateLimited {
            suite.rateLimit = TokenBucket.Limit(rate: 10, burst: 20)
            suite.createRetries = 6
            suite.strategies = [.fixed(intervalMillis: 1_000), .jitter(.decorrelated, baseMillis: 1_000, capMillis: 30_000)]
        }
        let fast = FastSimulation(suite: suite, roundTrip: .constant(.milliseconds(1))).summaries()
        let engine = Simulation(suite: suite, roundTrip: .constant(.milliseconds(1)), name: "engine").run().record.strategies
        for (f, e) in zip(fast, engine) {
            #expect(f.name == e.name)
            #expect(f.outcomes == e.outcomes || rateLimited)
            for (name, a, b) in [("polls", f.pollsPerSession.mean, e.pollsPerSession.mean), ("lag p50", f.detectionLag.p50, e.detectionLag.p50),
                                 ("lag p90", f.detectionLag.p90, e.detectionLag.p90), ("requests", f.requestsPerSession, e.requestsPerSession)] {
                #expect(abs(a - b) <= 0.05 * b, "\(f.name) \(name): fast \(a), engine \(b)")
            }
            if rateLimited {
                let share = { (s: StrategySummary) in Double(s.rateLimited) / Double(s.requests) }
                #expect(abs(share(f) - share(e)) < 0.05, "\(f.name) 429 share: fast \(share(f)), engine \(share(e))")
            }
        }
    }

    @Test("a closed workload keeps its concurrency and runs every session")
    func closed() {
        let summary = FastSimulation(suite: Self.suite(sessions: 100, arrival: .closed(concurrency: 10), strategies: [.fixed(intervalMillis: 2_000)]), roundTrip: .constant(.milliseconds(1))).summaries()[0]
        #expect(summary.sessions == 0 || summary.outcomes.values.reduce(0, +) == 100)
        #expect(summary.outcomes.values.reduce(0, +) == 100)
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
        #expect((summary.responses["status"]?["500"] ?? 0) > 0 && (summary.transportErrors["closed"] ?? 0) > 0)
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
