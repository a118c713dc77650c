import Foundation
@testable import PollBenchCore
@testable import PollBenchRules
import Testing

/// Runs the polling engine against the in-process sandbox in virtual time.
struct VirtualRun {
    /// The model epoch the runs start at, and the one client the sandbox knows.
    static let t0: Int64 = 1_795_000_000_000
    static let client = SandboxConfiguration.Client(id: "ENGINE01", secret: String(repeating: "ef", count: 32))

    let service: SandboxService
    let engine: PollingEngine
    let loop: VirtualTimeLoop
    let clock: ModelClock

    init(
        strategies: [String], workload: Workload, scale: Double = 1, roundTrip: Duration = .milliseconds(20), clientTimeoutMillis: Int64 = 300_000,
        stop: StopSignal? = nil, maxRequestsPerSecond: Double? = nil, maxDuePerTurn: Int? = nil, spoolsRecords: Bool = false, adjust: (inout SandboxConfiguration) -> Void = { _ in }
    ) throws {
        var configuration = SandboxConfiguration()
        configuration.clients = [Self.client]
        configuration.timeScale = scale
        configuration.graceSeconds = 100_000
        adjust(&configuration)
        clock = ModelClock(startMillis: Self.t0, scale: scale)
        service = SandboxService(configuration: configuration, startMillis: Self.t0)
        loop = VirtualTimeLoop(service: service, clock: clock, roundTrip: roundTrip, keepLog: true)
        let parsed = try strategies.map { try PollStrategy(parsing: $0) }
        var engineConfiguration = EngineConfiguration(
            baseURL: "http://sandbox/api/v1",
            credentials: BasicCredentials(clientID: Self.client.id, clientSecret: Self.client.secret),
            strategies: parsed, seed: workload.seed
        )
        engineConfiguration.clientTimeoutMillis = clientTimeoutMillis
        engineConfiguration.maxRequestsPerSecond = maxRequestsPerSecond
        engineConfiguration.maxDuePerTurn = maxDuePerTurn
        engineConfiguration.spoolsRecords = spoolsRecords
        let slots = workload.slots()
        let specs = parsed.indices.flatMap { strategy in slots.map { EngineSessionSpec(slot: $0, strategy: strategy) } }
        let closed: Int = if case .closed(let n) = workload.arrival { n } else { 0 }
        let loop = self.loop
        engine = PollingEngine(configuration: engineConfiguration, sessions: specs, clock: clock, closedConcurrency: closed, now: { loop.now }, stop: stop)
    }

    func run() { loop.run(engine) }

    /// Terminal times from the sandbox, by verification id.
    func truth() -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: service.sessionRecords(now: .max / 2).compactMap { record in record.terminalAt.map { (record.verificationId, $0) } })
    }
}

@Suite("Polling engine in virtual time (no sockets)")
struct EngineTests {
    @Test("every session ends in exactly one outcome, and the client's counts equal the sandbox's")
    func accounting() throws {
        let run = try VirtualRun(strategies: ["fixed:3s", "exp:1s,x2,max30s", "jitter:full,1s,30s"], workload: Workload(sessions: 150, arrival: .constant(perSecond: 2), seed: 11))
        run.run()
        var merged = StrategyRecorder()
        for recorder in run.engine.recorders {
            #expect(recorder.sessions.count == 150)
            #expect(recorder.outcomes.values.reduce(0, +) == 150)
            merged.merge(recorder)
        }
        #expect(Set(merged.sessions.all.compactMap(\.verificationID)).count == 450)
        let truth = run.service.groundTruth(now: .max / 2)
        for endpoint in ["create", "status", "userinfo", "evidence", "authorize"] {
            #expect(merged.counters.byEndpoint[endpoint] ?? [:] == truth.responses[endpoint] ?? [:], "\(endpoint)")
        }
        #expect(merged.counters.requests == run.loop.log.count)
        #expect(merged.outcomes[.completed] == truth.sessionsByState["completed"])
    }

    @Test("sessions and intervals spooled to disk as they come read back as those kept in memory: the same sessions in the same order, the same histograms interval by interval")
    func spooledRecords() throws {
        func recorders(spooled: Bool) throws -> [StrategyRecorder] {
            let run = try VirtualRun(strategies: ["fixed:3s", "exp:1s,x2,max30s"], workload: Workload(sessions: 400, arrival: .constant(perSecond: 5), seed: 12), spoolsRecords: spooled)
            run.run()
            return run.engine.recorders
        }
        let inMemory = try recorders(spooled: false), spooled = try recorders(spooled: true)
        #expect(inMemory.map(\.sessions.count) == [400, 400])
        #expect(spooled.map(\.sessions.all) == inMemory.map(\.sessions.all))
        for (a, b) in zip(inMemory, spooled) {
            for metric in Metric.all {
                let memory = a.encodedIntervals(metric), disk = b.encodedIntervals(metric)
                #expect(memory.map(\.interval) == disk.map(\.interval) && memory.map(\.encoded) == disk.map(\.encoded), "\(metric.tag)")
            }
            #expect(a.encodedIntervals(.latency(.status, corrected: true)).count > 100)
        }
        var merged = StrategyRecorder()
        merged.merge(spooled[0])
        merged.merge(spooled[0])  // a merge leaves what it merged as it was: twice is every count doubled, nothing more
        #expect(merged.encodedIntervals(.scheduleSlip).map(\.interval) == spooled[0].encodedIntervals(.scheduleSlip).map(\.interval))
        #expect(merged.histogram(.scheduleSlip).totalCount == 2 * spooled[0].histogram(.scheduleSlip).totalCount)
        let slipTotal = merged.encodedIntervals(.scheduleSlip).compactMap { HistogramLog.decodeCompressed($0.encoded)?.totalCount }.reduce(0, +)
        #expect(slipTotal == merged.histogram(.scheduleSlip).totalCount)
    }

    @Test("fixed:I: mean detection lag is I/2 plus the round trip, within 10 %", arguments: [Int64(1_000), 3_000, 5_000])
    func fixedIntervalLag(interval: Int64) throws {
        let run = try VirtualRun(
            strategies: ["fixed:\(interval)ms"], workload: Workload(sessions: 600, arrival: .poisson(perSecond: 5), providerMix: [("smartid", 1)], seed: 5),
            roundTrip: .milliseconds(40)
        )
        run.run()
        let truth = run.truth()
        let lags = run.engine.recorders[0].sessions.all.compactMap { session -> Double? in
            guard session.outcome == .completed, let seen = session.terminalSeenMicros, let id = session.verificationID, let done = truth[id] else { return nil }
            return Double(seen - done * 1_000) / 1_000
        }
        #expect(lags.count > 400)
        let mean = lags.reduce(0, +) / Double(lags.count)
        let expected = Double(interval) / 2 + 40
        #expect(abs(mean - expected) / expected < 0.10, "mean lag \(mean) ms, expected \(expected) ms")
        // The service sees each poll halfway through its round trip: half a round trip at least; at most an
        // interval plus one and a half round trips (a user done just after a poll was seen).
        #expect(lags.allSatisfy { $0 >= 19 && $0 <= Double(interval) + 61 })
    }

    @Test("a 429's Retry-After is never undercut")
    func honoursRetryAfter() throws {
        let run = try VirtualRun(strategies: ["fixed:500ms", "jitter:full,100ms,2s"], workload: Workload(sessions: 60, arrival: .constant(perSecond: 10), providerMix: [("bankidse", 1)], seed: 2)) {
            $0.clients[0].endpointLimits = ["status": .init(rate: 4, burst: 4)]
        }
        run.run()
        let limited = run.loop.log.filter { $0.status == 429 }
        #expect(!limited.isEmpty)
        for exchange in limited {
            let wait = Int64(exchange.retryAfter ?? "0").map { $0 * 1_000_000_000 } ?? 0
            let next = run.loop.log.first { $0.tag == exchange.tag && $0.submittedNanos > exchange.submittedNanos }
            if let next { #expect(next.submittedNanos >= exchange.completedNanos + wait) }
        }
        let counted = run.engine.recorders.reduce(0) { $0 + $1.counters.rateLimited }
        #expect(counted == limited.count)
        #expect(counted == run.service.groundTruth(now: .max / 2).rateLimited)
    }

    @Test("the same seed gives the same results, bit for bit")
    func determinism() throws {
        func results(_ seed: UInt64) throws -> [SessionResult] {
            let run = try VirtualRun(strategies: ["jitter:decorrelated,1s,20s"], workload: Workload(sessions: 80, arrival: .poisson(perSecond: 3), seed: seed))
            run.run()
            return run.engine.recorders[0].sessions.all.sorted { $0.key < $1.key }
        }
        #expect(try results(4) == results(4))
        #expect(try results(4) != results(5))
    }

    @Test("strategies face the same users: the same keys reach the same terminal times")
    func commonRandomNumbers() throws {
        let run = try VirtualRun(strategies: ["fixed:3s", "exp:1s,x2,max30s"], workload: Workload(sessions: 50, arrival: .constant(perSecond: 1), seed: 8))
        run.run()
        let truth = run.truth()
        func offsets(_ strategy: Int) -> [String: Int64] {
            Dictionary(uniqueKeysWithValues: run.engine.recorders[strategy].sessions.all.compactMap { session in
                guard let id = session.verificationID, let done = truth[id] else { return nil }
                return (session.key, done * 1_000 - session.createSentMicros)
            })
        }
        let first = offsets(0), second = offsets(1)
        #expect(first.count == 50)
        for (key, offset) in first where second[key] != nil {
            #expect(abs(offset - second[key]!) <= 2_000, "\(key)")  // the same user, within a millisecond of create latency
        }
    }

    @Test("users who abandon end as client-timeout when the client gives up first")
    func clientTimeout() throws {
        let run = try VirtualRun(strategies: ["fixed:2s"], workload: Workload(sessions: 100, arrival: .constant(perSecond: 5), providerMix: [("bankidse", 1)], seed: 3), clientTimeoutMillis: 60_000) {
            $0.ttlSeconds = 600
        }
        run.run()
        let recorder = run.engine.recorders[0]
        #expect((recorder.outcomes[.clientTimeout] ?? 0) > 0)
        #expect(recorder.outcomes[.expired] == nil)
        for session in recorder.sessions.all where session.outcome == .clientTimeout {
            #expect(session.polls <= 30)
        }
    }

    @Test("redirect flows open the authorization page and read the status once the user is back")
    func redirect() throws {
        let run = try VirtualRun(strategies: ["fixed:3s"], workload: Workload(sessions: 40, arrival: .constant(perSecond: 1), providerMix: [("mitid", 1)], seed: 6))
        run.run()
        let recorder = run.engine.recorders[0]
        #expect(recorder.counters.byEndpoint["authorize"]?["200"] == 40)
        let completed = recorder.sessions.all.filter { $0.outcome == .completed }
        #expect(!completed.isEmpty)
        #expect(completed.allSatisfy { $0.polls == 1 })
    }

    @Test("a closed workload keeps N sessions in flight")
    func closedWorkload() throws {
        let run = try VirtualRun(strategies: ["fixed:1s"], workload: Workload(sessions: 30, arrival: .closed(concurrency: 5), providerMix: [("smartid", 1)], seed: 1))
        run.run()
        #expect(run.engine.recorders[0].sessions.count == 30)
        let creates = run.loop.log.filter { $0.method == .post }
        #expect(creates.count == 30)
        #expect(creates.prefix(5).allSatisfy { $0.submittedNanos == 0 })
        #expect(creates.dropFirst(5).allSatisfy { $0.submittedNanos > 0 })
    }

    @Test("injected faults are survived: every session still ends exactly once")
    func faults() throws {
        let run = try VirtualRun(strategies: ["exp:500ms,x2,max10s"], workload: Workload(sessions: 200, arrival: .constant(perSecond: 4), seed: 12)) {
            $0.faults.serverErrorRate = 0.05
            $0.faults.closeRate = 0.01
            $0.faults.malformedRate = 0.01
            $0.faults.outages = [.init(provider: nil, fromSeconds: 10, toSeconds: 20)]
        }
        run.run()
        let recorder = run.engine.recorders[0]
        #expect(recorder.sessions.count == 200)
        #expect(recorder.outcomes.values.reduce(0, +) == 200)
        #expect(recorder.counters.transportErrors["truncated", default: 0] > 0)
        #expect(recorder.counters.malformedBodies > 0)
        #expect(recorder.counters.apiErrorCodes["400005", default: 0] > 0)
    }

    @Test("a stop request ends open sessions as interrupted; sessions that have not arrived leave no result")
    func interrupt() throws {
        let stop = StopSignal()
        let run = try VirtualRun(strategies: ["fixed:3s"], workload: Workload(sessions: 100, arrival: .constant(perSecond: 1), seed: 1), stop: stop)
        let driver = StopWhen(run, stop: stop) { $0.log.count >= 30 }
        run.loop.run(driver)
        let recorder = run.engine.recorders[0]
        #expect(stop.isRequested)
        #expect(recorder.outcomes[.interrupted, default: 0] > 0)
        #expect(recorder.sessions.count > 0 && recorder.sessions.count < 100)
        #expect(recorder.outcomes.values.reduce(0, +) == recorder.sessions.count)
        #expect(run.loop.log.count == driver.sentAtStop)  // nothing went out after the stop
    }

    /// Requests a stop as soon as `condition` holds after an answer, and notes how many requests had gone out by then.
    final class StopWhen: TransportLoopDriver {
        let engine: PollingEngine
        let stop: StopSignal
        let loop: VirtualTimeLoop
        let condition: (VirtualTimeLoop) -> Bool
        private(set) var sentAtStop = 0

        init(_ run: VirtualRun, stop: StopSignal, condition: @escaping (VirtualTimeLoop) -> Bool) {
            engine = run.engine
            loop = run.loop
            self.stop = stop
            self.condition = condition
        }

        func loopDidStart(_ loop: any TransportLoop) { engine.loopDidStart(loop) }
        func turn(_ loop: any TransportLoop) -> LoopTurn { engine.turn(loop) }
        func requestDidFinish(tag: Int, result: HTTPResult, loop: any TransportLoop) {
            engine.requestDidFinish(tag: tag, result: result, loop: loop)
            if !stop.isRequested, condition(self.loop) {
                stop.request()
                sentAtStop = self.loop.log.count
            }
        }
    }

    @Test("a burst of due sessions goes out in slices of the per-turn limit, with the same results as taken at once")
    func slicedTurns() throws {
        // 200 sessions arriving within 2 ms: without a limit, one turn would send most of their creates.
        let workload = Workload(sessions: 200, arrival: .constant(perSecond: 100_000), seed: 5)
        let unlimited = try VirtualRun(strategies: ["fixed:2s"], workload: workload)
        unlimited.run()
        let sliced = try VirtualRun(strategies: ["fixed:2s"], workload: workload, maxDuePerTurn: 8)
        let counter = SendsPerTurn(sliced)
        sliced.loop.run(counter)
        #expect(counter.most == 8)
        #expect(sliced.engine.recorders[0].sessions.all.map(\.outcome) == unlimited.engine.recorders[0].sessions.all.map(\.outcome))
        #expect(sliced.loop.log.count == unlimited.loop.log.count)
    }

    /// Passes the engine through and notes the most requests one of its turns sent.
    final class SendsPerTurn: TransportLoopDriver {
        let engine: PollingEngine
        let loop: VirtualTimeLoop
        private(set) var most = 0

        init(_ run: VirtualRun) {
            engine = run.engine
            loop = run.loop
        }

        func loopDidStart(_ loop: any TransportLoop) { engine.loopDidStart(loop) }
        func turn(_ loop: any TransportLoop) -> LoopTurn {
            let before = self.loop.log.count
            defer { most = max(most, self.loop.log.count - before) }
            return engine.turn(loop)
        }
        func requestDidFinish(tag: Int, result: HTTPResult, loop: any TransportLoop) { engine.requestDidFinish(tag: tag, result: result, loop: loop) }
    }

    @Test("an answer that arrives after the interrupt counts under the endpoint it was sent to")
    func answerAfterInterrupt() throws {
        let stop = StopSignal()
        let run = try VirtualRun(strategies: ["fixed:1s"], workload: Workload(sessions: 40, arrival: .constant(perSecond: 4), providerMix: [("smartid", 1)], seed: 3), stop: stop)
        // Stopped the moment a userinfo read goes out, so that its answer arrives for an interrupted session.
        run.loop.run(StopWhen(run, stop: stop) { $0.log.last?.path.hasSuffix("/userinfo") == true })
        let recorder = run.engine.recorders[0]
        let truth = run.service.groundTruth(now: .max / 2)
        #expect(stop.isRequested && truth.total(.userinfo) == 1)
        #expect(recorder.outcomes[.interrupted, default: 0] > 0)
        for endpoint in ["create", "status", "userinfo", "evidence"] {
            #expect(recorder.counters.byEndpoint[endpoint] ?? [:] == truth.responses[endpoint] ?? [:], "\(endpoint)")
        }
    }
}

@Suite("The request-rate cap")
struct RateCapTests {
    @Test("no wall second carries more than the cap plus its burst; throttling shows as slip, and every session still ends once")
    func cap() throws {
        let run = try VirtualRun(strategies: ["fixed:500ms"], workload: Workload(sessions: 200, arrival: .constant(perSecond: 20), providerMix: [("smartid", 1)], seed: 9), maxRequestsPerSecond: 50)
        run.run()
        var perSecond: [Int64: Int] = [:]
        for exchange in run.loop.log { perSecond[exchange.submittedNanos / 1_000_000_000, default: 0] += 1 }
        #expect((perSecond.values.max() ?? 0) <= 50 + 5)
        let recorder = run.engine.recorders[0]
        #expect(recorder.sessions.count == 200 && recorder.outcomes.values.reduce(0, +) == 200)
        #expect(recorder.histogram(.scheduleSlip).valueAtPercentile(99) > 100_000)  // waited well over 100 ms for the cap at times

        let free = try VirtualRun(strategies: ["fixed:500ms"], workload: Workload(sessions: 200, arrival: .constant(perSecond: 20), providerMix: [("smartid", 1)], seed: 9))
        free.run()
        #expect(free.engine.recorders[0].histogram(.scheduleSlip).valueAtPercentile(99) < 1_000)
        #expect(free.loop.log.count > run.loop.log.count)  // the cap made the client poll less
    }
}
