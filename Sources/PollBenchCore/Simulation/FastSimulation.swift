import Histogram
import PollBenchRules

/// A suite's workload and strategies simulated without HTTP documents, JSON, sockets or sleeping: what
/// `tune`, `plan` and `simulate --fast` run. Each session is a ``SessionMachine``, the same one the
/// engine drives, and the service is ``ServiceRules``, the same rules the sandbox wraps in documents: the
/// same users, lifecycle, budgets, faults (from the same per-user streams), outages and `Retry-After`. One
/// event queue orders everything in model time, simultaneous events in the order the engine's loop takes
/// them. So on the same suite, seed and round trips it gives the engine simulation's counts and
/// detection lag exactly, a shared budget, faults and mixed mode included.
///
/// Not simulated: the client's own request-rate cap (`maxRequestsPerSecond`, a harness safety limit) and
/// request latency and schedule slip, which are wall-clock measurements. Its intervals are model seconds.
public struct FastSimulation: Sendable {
    public let suite: Suite
    public let roundTrip: RoundTrips
    /// Whether recorders keep histograms per interval (for written results; sweeps need only totals).
    public var keepsIntervals = false

    public init(suite: Suite, roundTrip: RoundTrips, keepsIntervals: Bool = false) {
        self.suite = suite.planned()
        self.roundTrip = roundTrip
        self.keepsIntervals = keepsIntervals
    }

    /// Every strategy of the suite (one after another, or all at once in mixed mode), with each one's
    /// measurements in model time.
    public func run() -> [StrategyResult] {
        runWithService().results
    }

    private func runWithService() -> (results: [StrategyResult], service: SimulatedService) {
        let slots = suite.workload.slots()
        let rules = ServiceRules(configuration: suite.sandbox, startMillis: Simulation.startMillis)
        let providers = Dictionary(suite.sandbox.providers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let users = slots.map { slot in providers[slot.providerID].map { PlannedUser(plan: rules.plan(key: slot.key, provider: $0), provider: $0) } }
        var service = SimulatedService(
            rules: rules, users: users,
            budget: ClientBudget(rateLimit: suite.rateLimit.map(suite.shareOfBudget), endpointLimits: suite.endpointLimits.mapValues(suite.shareOfBudget), now: Simulation.startMillis),
            keys: slots.map(\.key), faultStreams: Array(repeating: nil, count: slots.count), outbox: WebhookOutbox(rules: rules.webhooks)
        )
        let keyHashes = slots.map { StableHash.fnv1a($0.key) }
        let empty = StrategyRecorder(keepsIntervals: keepsIntervals)
        let origin = Simulation.startMillis * 1_000
        var results = suite.strategies.map { StrategyResult(strategy: $0, recorder: empty, timeline: IntervalTimeline(offsetSeconds: 0, originModelMicros: origin, modelMicrosPerInterval: 1e6)) }
        var model = roundTrip.scaled(by: suite.timeScale / 1_000)  // draws in model µs
        var startMicros = origin
        for round in suite.rounds {
            var loop = FastSimulationRound(suite: suite, round: round, slots: slots, keyHashes: keyHashes, start: startMicros, recorder: empty, keepsSessions: keepsIntervals)
            let roundStart = startMicros
            startMicros = loop.run(roundTrip: &model, service: &service)
            for (position, strategy) in round.enumerated() {
                results[strategy].recorder = loop.recorders[position]
                results[strategy].timeline = IntervalTimeline(
                    offsetSeconds: Double(roundStart - origin) / 1e6, originModelMicros: roundStart, modelMicrosPerInterval: 1e6
                )
                results[strategy].recorder.setDetectionLag(loop.lags[position])
            }
        }
        return (results, service)
    }

    /// Each strategy's summary, as a run record has it.
    public func summaries() -> [StrategySummary] {
        run().map { RunRecordBuilder.summary($0.strategy, $0.recorder, lagUnknown: 0) }
    }

    /// The run record, as ``Simulation/run()`` writes it for the same suite.
    public func record(name: String) -> (record: RunRecord, results: [StrategyResult]) {
        let started = ContinuousClock.now
        let (results, service) = runWithService()
        let info = suite.runInfo(
            name: name, startedAt: WallClock.nowMillis(), wallSeconds: (ContinuousClock.now - started).inSeconds, simulated: true,
            target: "embedded (fast simulation)", partial: false
        )
        return suite.record(
            info: info, results: results, clockOffset: ClockOffset(offsetMillis: 0, uncertaintyMillis: 0, exact: true), truth: nil,
            webhookReceiver: suite.usesWebhooks ? service.receiver : nil
        )
    }
}

/// A simulated user: the plan the service draws for a workload slot, and its provider.
struct PlannedUser: Sendable {
    let plan: UserPlan
    let provider: Provider
}

/// The service as the fast simulation sees it: ``ServiceRules`` and the state they act on (the run's
/// client budget and each user's fault stream), shared by every round as the sandbox is.
struct SimulatedService {
    let rules: ServiceRules
    let users: [PlannedUser?]
    var budget: ClientBudget
    /// Each user's workload key, by slot.
    let keys: [String]
    /// Each user's fault stream as the service holds it, by slot (nil when none is held).
    var faultStreams: [ServiceRules.HeldFaultStream?]
    /// The webhook attempts waiting, by the round's session index, with their rules and counts.
    var outbox: WebhookOutbox<Int32>
    /// Sessions created so far (1 first): orders simultaneous webhooks, as the sandbox's count does.
    var created = 0
    /// What the receiver made of the deliveries.
    var receiver = WebhookReceiverCounts()

    /// The rules' admission of one request from `user` at model ms `now`.
    mutating func admit(_ endpoint: SandboxEndpoint, user: Int, at now: Int64) -> ServiceRules.Admission {
        guard budget.isLimited || rules.injectsFaults else { return .admitted(.none) }  // the common case, without a call
        return rules.admit(endpoint, budget: &budget, faults: &faultStreams[user], key: keys[user], at: now)
    }
}

/// One round of a fast simulation: its sessions, their event queue and the recorders.
struct FastSimulationRound {
    private struct Session {
        var machine: SessionMachine
        let index: Int32
        let user: Int32
        let position: Int32
        /// What the machine said to its last answer, carried out at that answer's turn; nil: the next event is a timer.
        var reaction: SessionMachine.Action?
        /// The service's `createdAt` (model ms), once created.
        var createdMillis: Int64 = 0
        /// The service's planned end of the session: model µs and status.
        var terminalMicros: Int64 = .max
        var terminalStatus = VerificationStatus.expired
    }

    /// A webhook session's side of the service: what it announces (its attempts wait in the service's outbox).
    private struct WebhookSession {
        var creation = 0
        var events: [WebhookEvent] = []
        /// The answer to the request in flight, taken by the machine at its turn.
        var answer: SessionMachine.Event?
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

    /// The answers the model gives, as the counters see them; the table counts them by index.
    private enum Answer: Int, CaseIterable {
        case ok, created, okMalformed, createdMalformed, notEnabled, unavailable, rateLimited, error500, error502, error503, truncated

        var counted: RequestCounters.Answer {
            switch self {
            case .ok: .response(status: 200, errorCode: nil, malformed: false)
            case .created: .response(status: 201, errorCode: nil, malformed: false)
            case .okMalformed: .response(status: 200, errorCode: nil, malformed: true)
            case .createdMalformed: .response(status: 201, errorCode: nil, malformed: true)
            case .notEnabled: .response(status: 403, errorCode: APIError.providerNotEnabled("").countedCode, malformed: false)
            case .unavailable: .response(status: 503, errorCode: APIError.providerUnavailable("").countedCode, malformed: false)
            case .rateLimited: .response(status: 429, errorCode: APIError.rateLimited.countedCode, malformed: false)
            case .error500: .response(status: 500, errorCode: APIError.internalError(500).countedCode, malformed: false)
            case .error502: .response(status: 502, errorCode: APIError.internalError(502).countedCode, malformed: false)
            case .error503: .response(status: 503, errorCode: APIError.internalError(503).countedCode, malformed: false)
            case .truncated: .transport(InjectedFault.cutConnectionError)
            }
        }

        static func serverError(_ status: Int) -> Answer { status == 500 ? .error500 : status == 502 ? .error502 : .error503 }

        /// The HTTP status; nil when no response came.
        var status: Int? {
            if case .response(let status, _, _) = counted { status } else { nil }
        }
    }

    private let suite: Suite
    private let slots: [SessionSlot]
    private let policy: SessionMachine.Policy
    private let start: Int64
    private let sessions: SessionTable
    private var events = EventQueue()
    /// Open arrivals in time order, apart from the queue so that it holds only sessions in progress.
    private var arrivals: [Event] = []
    private var closedQueue: [Int32]
    private let closedConcurrency: Int
    private var last: Int64 = 0
    /// Requests sent so far in the round: orders simultaneous answers as the engine's loop does.
    private var sequence: Int64 = 0
    private(set) var recorders: [StrategyRecorder]
    /// Detection lag per position: (interval, µs) for each session that saw its end.
    private(set) var lags: [[(interval: Int, micros: UInt64)]]
    /// Answers by position, endpoint and ``Answer``, turned into the recorders' counters at the end.
    private var answers: [Int]
    /// Webhook sessions by index, once created.
    private var webhookSessions: [Int32: WebhookSession] = [:]
    /// Timers and answers in the queue: webhooks (in the service's outbox) alone do not keep the round going (nor do they the engine's loop).
    private var queuedWork = 0
    /// Whether each session's record is kept (for sessions.csv), as the engine keeps it.
    private let keepsSessions: Bool

    /// - Parameter keyHashes: each slot's key hash, for its sessions' jitter streams.
    init(suite: Suite, round: [Int], slots: [SessionSlot], keyHashes: [UInt64], start: Int64, recorder: StrategyRecorder, keepsSessions: Bool) {
        self.suite = suite
        self.keepsSessions = keepsSessions
        self.slots = slots
        self.start = start
        policy = SessionMachine.Policy(clientTimeoutMillis: suite.clientTimeoutMillis, createRetries: suite.createRetries, webhookTimeoutMillis: suite.webhookTimeoutMillis)
        var built: [Session] = []
        var arrivals: [Event] = []
        var closed: [Int32] = []
        built.reserveCapacity(slots.count * round.count)
        suite.forEachSession(round: round, slots: slots) { position, slot in
            let index = Int32(built.count)
            built.append(Session(
                machine: SessionMachine(strategy: suite.strategies[round[position]], seed: suite.seed, keyHash: keyHashes[slot.index], position: position, provider: slot.providerID),
                index: index, user: Int32(slot.index), position: Int32(position)
            ))
            if let arrival = slot.arrivalMillis { arrivals.append(Event(at: start + arrival * 1_000, session: index)) } else { closed.append(index) }
        }
        sessions = SessionTable(built)
        closedQueue = closed.reversed()
        closedConcurrency = suite.closedConcurrency(round: round)
        recorders = Array(repeating: recorder, count: round.count)
        lags = Array(repeating: [], count: round.count)
        answers = Array(repeating: 0, count: round.count * Endpoint.allCases.count * Answer.allCases.count)
        if zip(arrivals, arrivals.dropFirst()).contains(where: { $1 < $0 }) { arrivals.sort() }  // one strategy's arrivals come in order already
        self.arrivals = arrivals
    }

    /// Runs the round to its end; returns the model µs at which its last session ended.
    /// - Parameter roundTrip: draws in model µs.
    mutating func run(roundTrip: inout RoundTrips, service: inout SimulatedService) -> Int64 {
        last = start
        for _ in 0..<closedConcurrency { startNextClosed(at: start, roundTrip: &roundTrip, service: &service) }
        var nextArrival = 0
        while true {
            let fromArrivals = nextArrival < arrivals.count && events.peek().map { arrivals[nextArrival] < $0 } ?? true
            let next = fromArrivals ? arrivals[nextArrival] : events.peek()
            if let webhook = service.outbox.next.map({ Event.webhook(at: $0.due * 1_000, order: $0.order) }), next.map({ webhook < $0 }) ?? true {
                // The engine's loop ends with its last timer or answer: a webhook due later is not taken in this round.
                if queuedWork == 0, nextArrival == arrivals.count, closedQueue.isEmpty, webhook.at > last { break }
                deliver(at: webhook.at, roundTrip: &roundTrip, service: &service)
                continue
            }
            guard let event = next else { break }
            if fromArrivals {
                nextArrival += 1
            } else {
                _ = events.popMin()
                queuedWork -= 1
            }
            last = max(last, event.at)
            step(Int(event.session), event, roundTrip: &roundTrip, service: &service)
        }
        service.outbox.removeAll()  // what is not due yet ends with the round's sessions
        finishCounters()
        return last
    }

    /// Queues a timer or an answer.
    private mutating func push(_ event: Event) {
        queuedWork += 1
        events.push(event)
    }

    /// A session's due event: its timer (or arrival) goes to its machine; an answer's turn carries out
    /// what the machine said to it.
    private mutating func step(_ index: Int, _ due: Event, roundTrip: inout RoundTrips, service: inout SimulatedService) {
        let now = due.at
        let session = sessions.base + index  // changed in place: a session is too big to copy out and back per event
        if !due.isTimer, let reaction = session.pointee.reaction {
            session.pointee.reaction = nil
            return perform(reaction, index, at: now, roundTrip: &roundTrip, service: &service)
        }
        if !due.isTimer, let answer = webhookSessions[Int32(index)]?.answer {
            webhookSessions[Int32(index)]?.answer = nil
            return perform(session.pointee.machine.handle(answer, at: now, policy), index, at: now, roundTrip: &roundTrip, service: &service)
        }
        let event = session.pointee.machine.timerEvent
        if event == .arrived { recorders[Int(session.pointee.position)].countStart(interval: interval(now)) }
        perform(session.pointee.machine.handle(event, at: now, policy), index, at: now, roundTrip: &roundTrip, service: &service)
    }

    /// Carries out a machine's action at model µs `now`. A request is answered at once by the rules, and
    /// the machine takes the answer at its arrival time, for nothing else of the session happens before
    /// then. What it says to do next waits for the answer's turn in the engine's order (it may touch the
    /// shared budget or start a closed workload's next session), unless it only sets a timer: a timer's
    /// place in the order does not depend on when it was pushed, so it goes straight in, and most
    /// requests take one event instead of two.
    private mutating func perform(_ action: SessionMachine.Action, _ index: Int, at now: Int64, roundTrip: inout RoundTrips, service: inout SimulatedService) {
        let session = sessions.base + index
        switch action {
        case .none:
            break
        case .send(let endpoint):
            let rtt = roundTrip.next()
            let (answer, delay) = self.answer(&session.pointee, endpoint, sentAt: now, atService: now + rtt / 2, service: &service)
            let received = now + rtt + delay
            if session.pointee.machine.usesWebhooks {
                // A webhook may come before the answer does: the machine takes the answer at its turn.
                webhookSessions[Int32(index), default: WebhookSession()].answer = answer
                sequence += 1
                return push(.answer(at: received, sequence: sequence, session: Int32(index)))
            }
            let reaction = session.pointee.machine.handle(answer, at: received, policy)
            if case .wake(let micros) = reaction {
                push(Event(at: micros, session: Int32(index)))
            } else {
                session.pointee.reaction = reaction
                sequence += 1
                push(.answer(at: received, sequence: sequence, session: Int32(index)))
            }
        case .wake(let micros):
            push(Event(at: micros, session: Int32(index)))
        case .end(let outcome):
            end(&session.pointee, outcome, at: now)
            startNextClosed(at: now, roundTrip: &roundTrip, service: &service)
        }
    }

    // MARK: The service's answers

    /// What the service answers to `endpoint` (it sees the request at model µs `atService`), counted, and
    /// the extra model µs a delivery fault or injected latency adds.
    private mutating func answer(
        _ session: inout Session, _ endpoint: Endpoint, sentAt now: Int64, atService: Int64, service: inout SimulatedService
    ) -> (SessionMachine.Event, delay: Int64) {
        let reply = serve(&session, endpoint, sentAt: now, atService: atService, service: &service)
        count(Int(session.position), endpoint, reply.counted, at: now)
        return (reply.event, reply.delay)
    }

    /// The rules' answer to one request: as the counters see it, as the session's machine reads it, and
    /// the extra model µs before it arrives.
    private mutating func serve(
        _ session: inout Session, _ endpoint: Endpoint, sentAt now: Int64, atService: Int64, service: inout SimulatedService
    ) -> (counted: Answer, event: SessionMachine.Event, delay: Int64) {
        let user = Int(session.user)
        let millis = atService / 1_000
        if endpoint == .authorize {  // the browser's page: no budget, no faults
            guard let planned = service.users[user] else { return (.ok, .authorizeFailed, 0) }
            var lifecycle = service.rules.lifecycle(plan: planned.plan, provider: planned.provider, createdAt: session.createdMillis)
            lifecycle.open(at: millis)
            plan(&session, lifecycle)
            planWebhooks(session, lifecycle, service: &service)
            return (.ok, .authorizeAnswered(returnAtServiceMillis: lifecycle.returnAt), 0)
        }
        let rules = service.rules
        let served = rules.serve(service.admit(endpoint.sandboxEndpoint, user: user, at: millis)) { () -> (answer: Answer, event: SessionMachine.Event) in
            switch endpoint {
            case .create: create(&session, service: &service, user: user, at: millis, sentAt: now)
            case .status: (.ok, .statusAnswered(status(terminalMicros: session.terminalMicros, session.terminalStatus, at: atService)))
            case .userinfo, .evidence, .authorize: (.ok, .readAnswered)
            }
        } status: { $0.answer.status ?? 0 }
        switch served {
        case .rateLimited(let seconds):
            return (.rateLimited, Self.failure(endpoint, .rateLimited, retryAfterMillis: seconds * 1_000, sentAt: now), 0)
        case .serverError(let status):
            let answer = Answer.serverError(status)
            return (answer, Self.failure(endpoint, answer, sentAt: now), 0)
        case .handled(let handled, let delivery, let latencyMicros):
            let delay = scaled(wallMicros: latencyMicros)
            switch delivery {
            case .normal:
                return (handled.answer, handled.event, delay)
            case .cut:
                return (.truncated, Self.failure(endpoint, .truncated, sentAt: now), delay)
            case .malformed:
                let answer: Answer = handled.answer == .created ? .createdMalformed : .okMalformed
                return (answer, Self.failure(endpoint, answer, sentAt: now), delay)
            case .drip(let dripMillis):
                return (handled.answer, handled.event, delay + scaled(wallMicros: Int64(dripMillis) * 1_000))
            }
        }
    }

    /// A create the service handles at model ms `millis`: a provider it does not offer, an outage, or a session.
    private mutating func create(_ session: inout Session, service: inout SimulatedService, user: Int, at millis: Int64, sentAt now: Int64) -> (answer: Answer, event: SessionMachine.Event) {
        guard let planned = service.users[user] else { return (.notEnabled, Self.failure(.create, .notEnabled, sentAt: now)) }
        if service.rules.inOutage(planned.provider.id, at: millis) { return (.unavailable, Self.failure(.create, .unavailable, sentAt: now)) }
        session.createdMillis = millis
        service.created += 1
        let lifecycle = service.rules.lifecycle(plan: planned.plan, provider: planned.provider, createdAt: millis)
        plan(&session, lifecycle)
        if session.machine.usesWebhooks {
            webhookSessions[session.index, default: WebhookSession()].creation = service.created
            planWebhooks(session, lifecycle, service: &service)
        }
        let redirect = planned.provider.flowType == .redirect
        return (.created, .createAnswered(.created(serviceCreatedMillis: millis, redirect: redirect), sentMicros: now))
    }

    /// The status document's meaning at model µs `atService`.
    private func status(terminalMicros: Int64, _ terminalStatus: VerificationStatus, at atService: Int64) -> SessionMachine.StatusAnswer {
        guard atService >= terminalMicros, let outcome = SessionOutcome(terminal: terminalStatus) else { return .open }
        return .terminal(outcome, serviceMillis: outcome.serviceTimeField == nil ? nil : terminalMicros / 1_000)
    }

    /// How a request's machine reads an answer that gave it nothing to use (an error, a cut connection, a
    /// body it cannot read), as the engine reads the same answer over HTTP.
    private static func failure(_ endpoint: Endpoint, _ answer: Answer, retryAfterMillis: Int64? = nil, sentAt now: Int64) -> SessionMachine.Event {
        switch endpoint {
        case .create: .createAnswered(.rejected(status: answer.status, retryAfterMillis: retryAfterMillis), sentMicros: now)
        case .status: .statusAnswered(retryAfterMillis.map { .retryAfter(millis: $0) } ?? .failed)
        case .authorize: .authorizeFailed
        case .userinfo, .evidence: .readAnswered
        }
    }

    private func plan(_ session: inout Session, _ lifecycle: SessionLifecycle) {
        let end = lifecycle.plannedEnd
        session.terminalMicros = end.at * 1_000
        session.terminalStatus = end.status
    }

    private mutating func end(_ session: inout Session, _ outcome: SessionOutcome, at time: Int64) {
        let position = Int(session.position)
        last = max(last, time)
        recorders[position].recordEnd(session.machine, outcome, interval: interval(time))
        if let seen = session.machine.terminalSeenMicros {
            lags[position].append((interval(seen), DetectionLag.micros(seenMicros: seen, serviceMicros: Double(session.terminalMicros))))
        }
        guard keepsSessions else { return }
        let slot = slots[Int(session.user)]
        var result = SessionResult(key: slot.key, providerID: slot.providerID, verificationID: nil, outcome: outcome, machine: session.machine)
        if session.machine.terminalSeenMicros != nil { result.serviceTerminalMillis = session.terminalMicros / 1_000 }  // the ground truth, as the engine's record has it
        recorders[position].sessions.append(result)
    }

    private mutating func startNextClosed(at time: Int64, roundTrip: inout RoundTrips, service: inout SimulatedService) {
        guard let next = closedQueue.popLast() else { return }
        step(Int(next), Event(at: time, session: next), roundTrip: &roundTrip, service: &service)
    }

    // MARK: Webhooks

    /// Plans what a webhook session's lifecycle announces that it did not before into the service's outbox.
    private mutating func planWebhooks(_ session: Session, _ lifecycle: SessionLifecycle, service: inout SimulatedService) {
        guard var state = webhookSessions[session.index] else { return }
        let events = service.outbox.dispatcher.rules.events(lifecycle)
        guard events != state.events else { return }
        service.outbox.plan(key: slots[Int(session.user)].key, events: events, previous: state.events, session: session.index, creation: state.creation)
        state.events = events
        webhookSessions[session.index] = state
    }

    /// The outbox's next attempt is due at model µs `time`: the outbox starts it, the receiver's verdict (a
    /// bad signature is refused, anything else taken) answers it, and an accepted one goes to the session's
    /// machine, as the engine simulation's loop does with the real documents.
    private mutating func deliver(at time: Int64, roundTrip: inout RoundTrips, service: inout SimulatedService) {
        guard let queued = service.outbox.popDue(by: time / 1_000) else { return }
        let attempt = queued.attempt, now = attempt.due
        guard let badSignature = service.outbox.start(queued, current: webhookSessions[queued.session]?.events, at: now) else { return }
        let receipt: WebhookReceipt = badSignature ? .badSignature : .accepted
        service.receiver.received += 1
        service.receiver.receipts[receipt.rawValue, default: 0] += 1
        service.outbox.answered(queued, status: receipt.httpStatus, at: now)
        let session = sessions.base + Int(queued.session)
        let position = Int(session.pointee.position)
        guard receipt == .accepted else {
            return recorders[position].countWebhook(receipt, notice: nil, attempt: 0, deliveryLagMicros: 0, interval: interval(time))
        }
        let (kind, action) = session.pointee.machine.notify(attempt.event, at: time, policy)
        recorders[position].countWebhook(.accepted, notice: kind, attempt: attempt.id.attempt, deliveryLagMicros: time - attempt.event.at * 1_000, interval: interval(time))
        perform(action, Int(queued.session), at: time, roundTrip: &roundTrip, service: &service)
    }

    // MARK: Counting

    /// Counts one request sent at `now` and its answer, in the table and in the current interval. The
    /// counters are filled from the table at the end, through the one counting rule every runner uses.
    private mutating func count(_ position: Int, _ endpoint: Endpoint, _ answer: Answer, at now: Int64) {
        answers[(position * Endpoint.allCases.count + endpoint.index) * Answer.allCases.count + answer.rawValue] += 1
        let bucket = recorders[position].bucket(interval(now))
        recorders[position].seconds[bucket].requests += 1
        if answer == .rateLimited { recorders[position].seconds[bucket].rateLimited += 1 }
    }

    private mutating func finishCounters() {
        for position in recorders.indices {
            for endpoint in Endpoint.allCases {
                let row = (position * Endpoint.allCases.count + endpoint.index) * Answer.allCases.count
                for answer in Answer.allCases where answers[row + answer.rawValue] > 0 {
                    recorders[position].counters.count(endpoint, answer.counted, times: answers[row + answer.rawValue])
                }
            }
        }
    }

    /// The round's interval (model second) of model µs `time`.
    private func interval(_ time: Int64) -> Int { Int((time - start) / 1_000_000) }

    /// Wall µs as model µs.
    private func scaled(wallMicros: Int64) -> Int64 { Int64((Double(wallMicros) * suite.timeScale).rounded()) }
}

extension Endpoint {
    /// The sandbox's name for this request, for budgets.
    var sandboxEndpoint: SandboxEndpoint {
        switch self {
        case .create: .create
        case .status: .status
        case .authorize: .authorize
        case .userinfo: .userinfo
        case .evidence: .evidence
        }
    }
}
