import Histogram

/// A suite's workload and strategies against the sandbox's behaviour model, simulated at the level of
/// the model: no HTTP documents, no JSON, no sockets and no sleeping. Each session is a small state
/// machine driven by one event queue; users come from the same ``UserPlan`` as the sandbox's (same seed, same
/// workload keys), the lifecycle from the same rule, budgets from the same ``TokenBucket``, and each
/// strategy from the same ``PollSchedule`` with the same per-session generator as the engine. It is what
/// ``Simulation`` computes, without the documents in between, so `tune` and `plan` can sweep many
/// settings in seconds.
///
/// Differences from ``Simulation``, all second-order: injected faults draw from one stream (not one per
/// request), userinfo and evidence reads take tokens but draw no faults, and the client's own request-rate
/// cap (`maxRequestsPerSecond`, a harness safety limit) is not applied. Its per-second buckets are model
/// seconds.
public struct FastSimulation: Sendable {
    public let suite: Suite
    public let roundTrip: RoundTripModel

    public init(suite: Suite, roundTrip: RoundTripModel) {
        self.suite = suite
        self.roundTrip = roundTrip
    }

    /// Every strategy of the suite (one after another, or all at once in mixed mode), with each one's
    /// measurements in model time.
    public func run() -> [StrategyResult] {
        let slots = suite.workload.slots()
        let providers = Dictionary(suite.sandbox.providers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let users = slots.map { slot in providers[slot.providerID].map { PlannedUser(slot: slot, provider: $0, seed: suite.sandbox.seed) } }
        var results = suite.strategies.map { StrategyResult(strategy: $0, recorder: StrategyRecorder(), detectionLag: Histograms.micros()) }
        var model = roundTrip.scaled(by: suite.timeScale / 1_000)  // draws in model µs
        var limits = ModelBudgets(suite: suite)
        var faults = ModelFaults(suite.sandbox.faults, seed: suite.sandbox.seed)
        var startMicros: Int64 = 0
        for round in suite.rounds {
            var loop = ModelLoop(suite: suite, round: round, users: users, start: startMicros)
            startMicros = loop.run(roundTrip: &model, budgets: &limits, faults: &faults)
            for (position, strategy) in round.enumerated() {
                results[strategy].recorder = loop.recorders[position]
                results[strategy].detectionLag = loop.lags[position]
            }
        }
        return results
    }

    /// Each strategy's summary, as a run record has it.
    public func summaries() -> [StrategySummary] {
        run().map { RunRecordBuilder.summary($0.strategy, $0.recorder, lag: $0.detectionLag, lagUnknown: 0) }
    }
}

/// A simulated user: what the sandbox would draw for this workload slot.
struct PlannedUser: Sendable {
    let plan: UserPlan
    let redirect: Bool
    let providerID: String

    init(slot: SessionSlot, provider: Provider, seed: UInt64) {
        plan = UserPlan(seed: seed, key: slot.key, behaviour: provider.behaviour)
        redirect = provider.flowType == .redirect
        providerID = provider.id
    }

    /// The session's end (model ms) when created at `createdMillis` and, for a redirect flow, opened at `openedMillis`.
    func end(createdMillis: Int64, openedMillis: Int64?, ttlMillis: Int64) -> (status: VerificationStatus, at: Int64, outcomeAt: Int64?) {
        let start = redirect ? openedMillis : createdMillis
        let outcomeAt = plan.outcome == .abandoned ? nil : start.map { $0 + plan.firstActionMillis + plan.completionMillis }
        let end = VerificationSession.end(plan: plan, outcomeAt: outcomeAt, expiresAt: createdMillis + ttlMillis)
        return (end.status, end.at, outcomeAt)
    }
}

/// The run's client budget in the sandbox: overall and per endpoint, as ``SandboxService`` keeps them.
struct ModelBudgets {
    private var overall: TokenBucket?
    /// Only the endpoints that have a budget: a handful at most, searched without hashing.
    private var endpoints: [(endpoint: SandboxEndpoint, bucket: TokenBucket)]
    let any: Bool

    init(suite: Suite) {
        overall = suite.rateLimit.map { TokenBucket($0, now: 0) }
        endpoints = SandboxEndpoint.allCases.compactMap { endpoint in suite.endpointLimits[endpoint.rawValue].map { (endpoint, TokenBucket($0, now: 0)) } }
        any = overall != nil || !endpoints.isEmpty
    }

    /// Nil when a request to `endpoint` at model µs `micros` may go; else the `Retry-After` the sandbox would send, in ms.
    mutating func take(_ endpoint: SandboxEndpoint, atMicros micros: Int64) -> Int64? {
        guard any else { return nil }
        let millis = micros / 1_000
        var wait = overall?.take(at: millis)
        if wait == nil, let index = endpoints.firstIndex(where: { $0.endpoint == endpoint }) { wait = endpoints[index].bucket.take(at: millis) }
        return wait.map { TokenBucket.retryAfterSeconds(waitMillis: $0) * 1_000 }
    }
}

/// Injected faults, drawn from one seeded stream with the sandbox's rates.
struct ModelFaults {
    enum Answer { case normal, serverError, broken, malformed }
    private let configuration: FaultConfiguration
    private var random: SplitMix64
    let any: Bool

    init(_ configuration: FaultConfiguration, seed: UInt64) {
        self.configuration = configuration
        random = SplitMix64(seed: seed, key: "fast-simulation-faults")
        any = configuration != FaultConfiguration()
    }

    /// What happens to one API request that was not rate limited, and the wall delay added to its answer.
    mutating func draw() -> (answer: Answer, delayNanos: Int64) {
        guard any else { return (.normal, 0) }
        if configuration.serverErrorRate > 0, random.nextUnit() < configuration.serverErrorRate { return (.serverError, 0) }
        let draw = random.nextUnit()
        var answer = Answer.normal
        var delay: Int64 = 0
        if draw < configuration.closeRate { answer = .broken }
        else if draw < configuration.closeRate + configuration.malformedRate { answer = .malformed }
        else if draw < configuration.closeRate + configuration.malformedRate + configuration.dripRate { delay = Int64(configuration.dripMillis) * 1_000_000 }
        if let latency = configuration.latency, random.nextUnit() < latency.rate { delay += Int64(latency.millis.sample(&random) * 1_000_000) }
        return (answer, delay)
    }

    /// Whether `providerID` is in an outage `elapsedMicros` into the run.
    func outage(_ providerID: String, elapsedMicros: Int64) -> Bool {
        guard !configuration.outages.isEmpty else { return false }
        let seconds = Double(elapsedMicros) / 1e6
        return configuration.outages.contains { ($0.provider == nil || $0.provider == providerID) && $0.fromSeconds <= seconds && seconds < $0.toSeconds }
    }
}

/// One round of a fast simulation: its sessions, their event heap and the recorders.
struct ModelLoop {
    private enum Phase: UInt8 { case waiting, creating, authorizing, polling, timingOut, userinfo, evidence, done }


    private struct Session {
        let user: Int32
        let position: Int32
        var phase = Phase.waiting
        var createAttempts = 0
        var polls = 0
        var schedule: PollSchedule
        var random: SplitMix64
        var deadline: Int64 = .max
        var createSent: Int64 = 0
        /// Model ms of creation at the service; nil until created.
        var createdMillis: Int64?
        var seenAt: Int64?
        var terminalAt: Int64 = .max
        var terminalStatus = VerificationStatus.expired
    }

    /// The round's sessions in one allocation, changed in place.
    private final class SessionTable {
        let base: UnsafeMutablePointer<Session>
        let count: Int

        init(_ sessions: [Session]) {
            count = sessions.count
            base = .allocate(capacity: Swift.max(1, count))
            _ = UnsafeMutableBufferPointer(start: base, count: count).initialize(from: sessions)
        }

        deinit {
            base.deinitialize(count: count)
            base.deallocate()
        }
    }

    /// The answers counted per endpoint: a small fixed table, so the hot path does no hashing.
    private static let statuses = [0, 200, 201, 403, 429, 500, 503]

    private let suite: Suite
    private let users: [PlannedUser?]
    private let ttlMillis: Int64
    private let start: Int64
    private let sessions: SessionTable
    private var events = EventQueue()
    /// Open arrivals in time order, apart from the heap so that it holds only sessions in progress.
    private var arrivals: [Event] = []
    private var closedQueue: [Int32]
    private let closedConcurrency: Int
    private var now: Int64 = 0
    private var last: Int64 = 0
    private(set) var recorders: [StrategyRecorder]
    private(set) var lags: [Histogram<UInt64>]
    /// Answers by position, endpoint and status (``statuses``), turned into the recorders' counters at the end.
    private var answers: [Int]

    init(suite: Suite, round: [Int], users: [PlannedUser?], start: Int64) {
        self.suite = suite
        self.users = users
        self.start = start
        ttlMillis = Int64((suite.sandbox.ttlSeconds * 1_000).rounded())
        let (specs, concurrency) = suite.sessionSpecs(round: round)
        sessions = SessionTable(specs.map { spec in
            Session(
                user: Int32(spec.slot.index), position: Int32(spec.strategy), schedule: PollSchedule(strategy: suite.strategies[round[spec.strategy]]),
                random: SplitMix64(seed: suite.seed, key: "\(spec.slot.key)/\(spec.strategy)")
            )
        })
        closedQueue = specs.indices.filter { specs[$0].slot.arrivalMillis == nil }.reversed().map(Int32.init)
        closedConcurrency = concurrency
        recorders = Array(repeating: StrategyRecorder(), count: round.count)
        lags = Array(repeating: Histograms.micros(), count: round.count)
        answers = Array(repeating: 0, count: round.count * Self.endpointCount * Self.statuses.count)
        arrivals = specs.enumerated().compactMap { index, spec in spec.slot.arrivalMillis.map { Event(at: start + $0 * 1_000, session: Int32(index)) } }.sorted()
    }

    /// Runs the round to its end; returns the model µs at which its last session ended.
    /// - Parameter roundTrip: draws in model µs.
    mutating func run(roundTrip: inout RoundTripModel, budgets: inout ModelBudgets, faults: inout ModelFaults) -> Int64 {
        now = start
        last = start
        for _ in 0..<closedConcurrency { startNextClosed(at: start) }
        var nextArrival = 0
        while true {
            let event: Event
            if nextArrival < arrivals.count, events.peek().map({ arrivals[nextArrival] < $0 }) ?? true {
                event = arrivals[nextArrival]
                nextArrival += 1
            } else if let due = events.popMin() {
                event = due
            } else {
                break
            }
            now = event.at
            step(Int(event.session), rtt: roundTrip.next(), budgets: &budgets, faults: &faults)
        }
        finishCounters()
        return last
    }

    private mutating func step(_ index: Int, rtt: Int64, budgets: inout ModelBudgets, faults: inout ModelFaults) {
        let session = sessions.base + index  // changed in place: a session is too big to copy out and back per event
        switch session.pointee.phase {
        case .waiting, .creating: create(&session.pointee, index, rtt: rtt, budgets: &budgets, faults: &faults)
        case .authorizing: authorize(&session.pointee, index, rtt: rtt)
        case .polling: poll(&session.pointee, index, rtt: rtt, budgets: &budgets, faults: &faults)
        case .timingOut: end(&session.pointee, .clientTimeout, at: now)
        case .userinfo, .evidence: read(&session.pointee, index, rtt: rtt, budgets: &budgets)
        case .done: break
        }
    }

    private mutating func create(_ session: inout Session, _ index: Int, rtt: Int64, budgets: inout ModelBudgets, faults: inout ModelFaults) {
        if session.phase == .waiting {
            session.phase = .creating
            session.deadline = now + suite.clientTimeoutMillis * 1_000
            recorders[Int(session.position)].seconds[bucket(session, at: now)].started += 1
        }
        session.createAttempts += 1
        session.createSent = now
        guard let user = users[Int(session.user)] else {
            answer(session, .create, 403)  // a provider the sandbox does not offer (400002): not retried
            return end(&session, .error, at: now + rtt)
        }
        let atService = now + rtt / 2  // the service sees a request halfway through its round trip
        var status = 201, retryAfter: Int64 = 0, delay: Int64 = 0
        if let wait = budgets.take(.create, atMicros: atService) {
            status = 429
            retryAfter = wait
        } else {
            let fault = faults.draw()
            delay = modelMicros(fault.delayNanos)
            switch fault.answer {
            case .serverError: status = 500
            case .broken: status = 0
            case .malformed:
                // A 201 the client cannot read created a session already: retrying would make a second one.
                answer(session, .create, 201)
                recorders[Int(session.position)].counters.malformedBodies += 1
                return end(&session, .error, at: now + rtt + delay)
            case .normal: if faults.outage(user.providerID, elapsedMicros: atService - start) { status = 503 }
            }
        }
        answer(session, .create, status)
        let received = now + rtt + delay
        guard status == 201 else {
            guard session.createAttempts <= suite.createRetries else { return end(&session, .error, at: received) }
            let backoff = Int64(1_000 << min(session.createAttempts - 1, 5))
            events.push(Event(at: received + max(backoff, retryAfter) * 1_000, session: Int32(index)))
            return
        }
        session.createdMillis = atService / 1_000
        if user.redirect {
            session.phase = .authorizing
            events.push(Event(at: received, session: Int32(index)))
            return
        }
        let end = user.end(createdMillis: atService / 1_000, openedMillis: nil, ttlMillis: ttlMillis)
        session.terminalAt = end.at * 1_000
        session.terminalStatus = end.status
        schedule(&session, index, delayMillis: session.schedule.firstDelay(&session.random), after: received)
    }

    /// The browser opens the authorization page; the client reads the status when the user comes back.
    private mutating func authorize(_ session: inout Session, _ index: Int, rtt: Int64) {
        answer(session, .authorize, 200)
        guard let user = users[Int(session.user)], let created = session.createdMillis else { return end(&session, .error, at: now) }
        let end = user.end(createdMillis: created, openedMillis: (now + rtt / 2) / 1_000, ttlMillis: ttlMillis)
        session.terminalAt = end.at * 1_000
        session.terminalStatus = end.status
        let received = now + rtt
        // The engine moves the service's returnAt onto its own clock with the offset the create's round trip shows.
        let offset = created * 1_000 - (session.createSent + now) / 2
        let returnAt = end.outcomeAt.flatMap { $0 < created + ttlMillis ? $0 * 1_000 - offset : nil }
        if let returnAt, returnAt < session.deadline {
            session.phase = .polling
            events.push(Event(at: max(received, returnAt), session: Int32(index)))
        } else {
            session.phase = .timingOut  // the user never comes back, or not before the client gives up
            events.push(Event(at: max(received, session.deadline), session: Int32(index)))
        }
    }

    private mutating func poll(_ session: inout Session, _ index: Int, rtt: Int64, budgets: inout ModelBudgets, faults: inout ModelFaults) {
        session.polls += 1
        var outcome = PollSchedule.Outcome.notYet
        var received = now + rtt
        let atService = now + rtt / 2
        if let wait = budgets.take(.status, atMicros: atService) {
            answer(session, .status, 429)
            recorders[Int(session.position)].counters.retryAfterWaitMillis += wait
            outcome = .retryAfter(millis: wait)
        } else {
            let fault = faults.draw()
            received += modelMicros(fault.delayNanos)
            switch fault.answer {
            case .serverError:
                answer(session, .status, 500)
                outcome = .failed
            case .broken:
                answer(session, .status, 0)
                outcome = .failed
            case .malformed:
                answer(session, .status, 200)
                recorders[Int(session.position)].counters.malformedBodies += 1
                outcome = .failed
            case .normal:
                answer(session, .status, 200)
                if atService >= session.terminalAt { return seen(&session, index, at: received) }
            }
        }
        schedule(&session, index, delayMillis: session.schedule.nextDelay(after: outcome, &session.random), after: received)
    }

    private mutating func seen(_ session: inout Session, _ index: Int, at received: Int64) {
        _ = lags[Int(session.position)].record(UInt64(max(0, received - session.terminalAt)))
        session.seenAt = received
        switch session.terminalStatus {
        case .completed:
            session.phase = .userinfo
            events.push(Event(at: received, session: Int32(index)))
        case .failed: end(&session, .failed, at: received)
        case .cancelled: end(&session, .cancelled, at: received)
        default: end(&session, .expired, at: received)
        }
    }

    /// Userinfo, then evidence, after a completed status: requests that take tokens like any other.
    private mutating func read(_ session: inout Session, _ index: Int, rtt: Int64, budgets: inout ModelBudgets) {
        let endpoint: SandboxEndpoint = session.phase == .userinfo ? .userinfo : .evidence
        let counted: Endpoint = session.phase == .userinfo ? .userinfo : .evidence
        answer(session, counted, budgets.take(endpoint, atMicros: now + rtt / 2) == nil ? 200 : 429)
        if session.phase == .userinfo {
            session.phase = .evidence
            events.push(Event(at: now + rtt, session: Int32(index)))
        } else {
            end(&session, .completed, at: now + rtt)
        }
    }

    private mutating func schedule(_ session: inout Session, _ index: Int, delayMillis: Int64, after received: Int64) {
        let due = received + delayMillis * 1_000
        guard due <= session.deadline else { return end(&session, .clientTimeout, at: received) }
        session.phase = .polling
        events.push(Event(at: due, session: Int32(index)))
    }

    private mutating func end(_ session: inout Session, _ outcome: SessionOutcome, at time: Int64) {
        let position = Int(session.position)
        session.phase = .done
        last = max(last, time)
        recorders[position].outcomes[outcome, default: 0] += 1
        if session.createdMillis != nil { _ = recorders[position].pollsPerSession.record(UInt64(session.polls)) }
        if let seen = session.seenAt { _ = recorders[position].timeToResult.record(UInt64(clamping: max(1, seen - session.createSent))) }
        recorders[position].seconds[bucket(session, at: time)].ended += 1
        startNextClosed(at: time)
    }

    private mutating func startNextClosed(at time: Int64) {
        guard let next = closedQueue.popLast() else { return }
        events.push(Event(at: time, session: next))
    }

    // MARK: Counting

    /// Counts one request sent now and its answer (`status` 0: the connection was cut), in the
    /// table and in the current second. The totals are read off the table at the end.
    private mutating func answer(_ session: Session, _ endpoint: Endpoint, _ status: Int) {
        let column = Self.statuses.firstIndex(of: status) ?? 0
        let row = Int(session.position) * Self.endpointCount + Self.endpointIndex(endpoint)
        answers[row * Self.statuses.count + column] += 1
        let second = bucket(session, at: now)
        recorders[Int(session.position)].seconds[second].requests += 1
        if status == 429 { recorders[Int(session.position)].seconds[second].rateLimited += 1 }
    }

    private static let endpointCount = Endpoint.allCases.count

    private static func endpointIndex(_ endpoint: Endpoint) -> Int {
        switch endpoint {
        case .create: 0
        case .status: 1
        case .authorize: 2
        case .userinfo: 3
        case .evidence: 4
        }
    }

    /// The model second of `time` in this round, the recorder's buckets grown to hold it.
    private mutating func bucket(_ session: Session, at time: Int64) -> Int {
        recorders[Int(session.position)].bucket(Int((time - start) / 1_000_000))
    }

    private mutating func finishCounters() {
        for position in recorders.indices {
            for endpoint in Endpoint.allCases {
                let row = (position * Self.endpointCount + Self.endpointIndex(endpoint)) * Self.statuses.count
                var byStatus: [String: Int] = [:]
                for (column, status) in Self.statuses.enumerated() where answers[row + column] > 0 {
                    byStatus[status == 0 ? "transport:closed" : String(status)] = answers[row + column]
                }
                if !byStatus.isEmpty { recorders[position].counters.byEndpoint[endpoint.rawValue] = byStatus }
                if let closed = byStatus["transport:closed"] { recorders[position].counters.transportErrors["closed", default: 0] += closed }
                recorders[position].counters.requests += byStatus.values.reduce(0, +)
                recorders[position].counters.rateLimited += byStatus["429"] ?? 0
            }
        }
    }

    private func modelMicros(_ wallNanos: Int64) -> Int64 { Int64((Double(wallNanos) * suite.timeScale / 1_000).rounded()) }
}
