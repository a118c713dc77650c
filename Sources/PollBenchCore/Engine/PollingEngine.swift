import Foundation
import PollBenchRules

/// What every engine of a run shares.
public struct EngineConfiguration: Sendable {
    /// The API base URL, e.g. `http://127.0.0.1:8080/api/v1`.
    public var baseURL: String
    public var credentials: BasicCredentials?
    /// The strategies; each session names one by index.
    public var strategies: [PollStrategy]
    /// Model milliseconds after creation at which the client gives up.
    public var clientTimeoutMillis: Int64 = 300_000
    /// Each request's wall-clock time limit.
    public var requestTimeout: Duration = .seconds(30)
    /// Creates retried after a 429, 5xx or transport error; then the session ends as `error`.
    public var createRetries = 3
    /// Seeds the strategies' jitter (with each session's key).
    public var seed: UInt64
    /// The `redirectUri` sent for redirect flows.
    public var redirectUri = "https://pollbench.invalid/return"
    /// This engine's hard cap on requests per wall second; requests over it wait their turn (and the
    /// wait shows as schedule slip). Nil: no cap.
    public var maxRequestsPerSecond: Double?
    /// Receives one line per request and per response when set; credentials appear only as `[redacted]`.
    public var trace: (@Sendable (String) -> Void)?
    /// Where this engine's sessions ask for their webhooks: a session's URL is this plus `/INDEX`
    /// (see ``WebhookRoute``). Nil: webhook strategies get none, and rely on their safety poll.
    public var webhookBaseURL: String?
    /// Model milliseconds after which a pure `webhook` session reads the status once; nil: the client timeout.
    public var webhookTimeoutMillis: Int64?
    /// Whether the service's clock is the client's (the embedded sandbox, a simulation): webhook delivery
    /// lag then needs no offset estimate.
    public var sharedClock = true
    /// Reports answers, sessions and the loop's state as they happen (`run --metrics-listen`); nil: nothing.
    public var metrics: (any LiveMetricsSink)?
    /// The most due polls and arrivals one loop turn takes before the loop reads its sockets again; the
    /// rest wait for the next turn, which comes at once. A live loop sets it, so that a burst of polls due
    /// together (after a late turn) is sent in slices and the answers to the first are read between
    /// them, rather than waiting unread in their sockets while the whole burst goes out, which would
    /// count as the server's latency. Nil: no limit (virtual time, where a turn takes no time).
    public var maxDuePerTurn: Int?
    /// Whether finished intervals and ended sessions go to a spool on disk as they come (``SpoolLog``): a
    /// live run sets it, so that its memory stays that of its open interval and its sessions in progress,
    /// however long it runs. False: they stay in memory.
    public var spoolsRecords = false
    /// Whether each request carries its session's workload key (`X-Pollbench-Key`), which a pollbench
    /// sandbox draws the session's user and faults from. A real service has no use for it, and each
    /// header is work for curl on every request.
    public var sendsWorkloadKey = true

    public init(baseURL: String, credentials: BasicCredentials?, strategies: [PollStrategy], seed: UInt64) {
        self.baseURL = baseURL
        self.credentials = credentials
        self.strategies = strategies
        self.seed = seed
    }
}

/// One session for an engine to run: a workload slot under one strategy.
public struct EngineSessionSpec: Sendable {
    public var slot: SessionSlot
    public var strategy: Int

    public init(slot: SessionSlot, strategy: Int) {
        self.slot = slot
        self.strategy = strategy
    }
}

/// The polling engine: one per transport event loop, and a thin adapter around ``SessionMachine``. It
/// owns its sessions, their schedule (arrivals, due polls) and its recorders, so nothing on its
/// path takes a lock; it turns HTTP answers into the machine's events and the machine's actions into
/// requests and timers, and never decides what a session does next. Every poll has an intended send
/// time, and latency is recorded from it as well as from the actual send.
public final class PollingEngine: WebhookDriver {
    private struct Session {
        let spec: EngineSessionSpec
        var machine: SessionMachine
        /// The service's id for the session, from the create's document, until the session ends.
        var verificationID: String?
        /// A redirect flow's page, from the create's document, until the session ends.
        var authorizationURL: String?
        /// The id's hash once the session has ended and let go of its strings (a long run's memory would
        /// grow with them): enough to tell a late webhook for it from one for another verification.
        var endedVerificationHash: Int?

        /// Whether a webhook about `verificationID` is about this session (any is, before its create's answer).
        func isAbout(_ verificationID: String) -> Bool {
            if let own = self.verificationID { return own == verificationID }
            return endedVerificationHash.map { $0 == verificationID.hashValue } ?? true
        }
        var intendedNanos: Int64 = 0
        var sentNanos: Int64 = 0
        /// The endpoint of the request in flight, named when it is sent: an interrupt may end the
        /// session before the answer comes, and the answer must still count where it belongs.
        var inFlight = Endpoint.create
    }

    private let configuration: EngineConfiguration
    private let policy: SessionMachine.Policy
    private let clock: ModelClock
    private let now: () -> ContinuousClock.Instant
    private let progress: ProgressBoard?
    private let stop: StopSignal?
    private var sessions: [Session]
    /// Arrivals, timers and the closed workload's queue.
    private var schedule: SessionSchedule
    private let closedConcurrency: Int
    private var startNanos: Int64 = 0
    /// Wall nanoseconds per interval of the record: a second of wall time live, of model time simulated.
    private let intervalNanos: Int64
    /// Wall nanoseconds (after the clock's origin) at which interval 0 starts; nil: when the loop starts.
    public private(set) var intervalOriginNanos: Int64?
    private var reported = (started: 0, ended: 0, requests: 0, rateLimited: 0)
    private var totals = (started: 0, ended: 0, requests: 0, rateLimited: 0)
    /// The requests the API's client side writes, and what their answers mean.
    private let codec: ClientCodec
    /// The request-rate cap and the requests waiting for it.
    private var pacer: RequestPacer
    /// Webhook deliveries from the live receiver's threads.
    private let webhooks: WebhookInbox?

    /// Measurements, one recorder per strategy index.
    public private(set) var recorders: [StrategyRecorder]
    /// The loop's own load (live runs only); ``harnessRecord`` reads it once the loop has ended.
    private var harness: HarnessRecorder?

    /// - Parameters:
    ///   - closedConcurrency: for a closed workload, how many of these sessions run at once.
    ///   - intervalNanos: the wall length of one interval of the record (default one second).
    ///   - intervalOriginNanos: when interval 0 starts (wall nanoseconds after the clock's origin), so that
    ///     the engines of one round share their intervals; nil: when this engine's loop starts.
    ///   - now: the wall clock; tests pass a virtual one.
    ///   - harness: records the loop's own load (live runs), see ``harnessRecord``.
    public init(
        configuration: EngineConfiguration, sessions specs: [EngineSessionSpec], clock: ModelClock, closedConcurrency: Int = 0,
        intervalNanos: Int64 = 1_000_000_000, intervalOriginNanos: Int64? = nil, now: @escaping () -> ContinuousClock.Instant = { .now }, progress: ProgressBoard? = nil,
        stop: StopSignal? = nil, webhooks: WebhookInbox? = nil, harness: HarnessRecorder? = nil
    ) {
        self.configuration = configuration
        self.harness = harness
        self.webhooks = webhooks
        policy = SessionMachine.Policy(
            clientTimeoutMillis: configuration.clientTimeoutMillis, createRetries: configuration.createRetries, webhookTimeoutMillis: configuration.webhookTimeoutMillis
        )
        self.clock = clock
        self.intervalNanos = max(1, intervalNanos)
        self.intervalOriginNanos = intervalOriginNanos
        self.now = now
        self.progress = progress
        self.stop = stop
        codec = ClientCodec(baseURL: configuration.baseURL, redirectURI: configuration.redirectUri)
        recorders = configuration.strategies.map { _ in StrategyRecorder(spooled: configuration.spoolsRecords) }
        sessions = specs.map { spec in
            Session(spec: spec, machine: SessionMachine(strategy: configuration.strategies[spec.strategy], seed: configuration.seed, key: spec.slot.key, position: spec.strategy, provider: spec.slot.providerID))
        }
        schedule = SessionSchedule(
            arrivals: specs.indices.compactMap { index in specs[index].slot.arrivalMillis.map { .init(at: clock.wallNanos(modelMillis: $0), session: index) } },
            closed: specs.indices.filter { specs[$0].slot.arrivalMillis == nil }
        )
        self.closedConcurrency = closedConcurrency
        pacer = RequestPacer(maxRequestsPerSecond: configuration.maxRequestsPerSecond)
    }

    // MARK: Loop callbacks

    public func loopDidStart(_ loop: any TransportLoop) {
        webhooks?.attach(loop.makeWaker())
        startNanos = wallNanos()
        schedule.start(at: startNanos)
        if intervalOriginNanos == nil { intervalOriginNanos = startNanos }
        for _ in 0..<closedConcurrency { startNextClosed(loop) }
    }

    public func turn(_ loop: any TransportLoop) -> LoopTurn {
        let nowNanos = wallNanos()
        if stop?.isRequested == true { interruptAll(at: nowNanos) }
        dropEndedTimers()
        // How late this turn runs for the earliest timer it is due for: the loop's own lag.
        let lag = schedule.earliest.map { nowNanos - $0 }.flatMap { $0 >= 0 ? $0 : nil }
        for delivery in webhooks?.drain() ?? [] { deliver(delivery, at: nowNanos, loop) }
        for waited in pacer.release(atNanos: nowNanos, isDone: { sessions[$0].machine.isDone }) {
            harness?.heldByRateCap(waitedNanos: waited.heldNanos)
            submit(waited.tag, waited.request, loop)
        }
        var taken = 0
        while taken < configuration.maxDuePerTurn ?? .max, let next = schedule.takeDue(by: nowNanos) {
            step(next.session, sessions[next.session].machine.timerEvent, at: next.at, loop)
            taken += 1
        }
        publishProgress()
        if harness != nil || configuration.metrics != nil {
            let (inFlight, waiting, open) = (loop.inFlight, loop.waitingForConnection, loop.openConnections)
            harness?.turn(at: nowNanos, lagNanos: lag, previous: loop.previousTurn, inFlight: inFlight, waiting: waiting, openConnections: open)
            configuration.metrics?.loopTurned(lagMicros: lag.map { $0 / 1_000 }, inFlight: inFlight, waitingForConnection: waiting, openConnections: open)
        }
        dropEndedTimers()
        // One finished interval compressed per turn: a second's end then costs no turn all of its metrics' compression.
        for index in recorders.indices where recorders[index].encodePendingInterval() { break }
        var wait: Int64? = schedule.earliest.map { $0 - nowNanos }
        if let tokenWait = pacer.waitMillis(atMillis: nowNanos / 1_000_000) { wait = min(wait ?? .max, tokenWait * 1_000_000) }
        if let wait { return .wait(nanoseconds: wait) }
        let open = totals.started - totals.ended
        return open == 0 && schedule.closedIsEmpty ? .finished : .wait(nanoseconds: 100_000_000)
    }

    public func requestDidFinish(tag: Int, result: HTTPResult, loop: any TransportLoop) {
        let nowNanos = wallNanos()
        let endpoint = sessions[tag].inFlight
        let answer = answer(result)  // the document parsed once, for the counts and for the session's next step
        record(endpoint, result, fields: answer.fields, session: tag, at: nowNanos)
        guard !sessions[tag].machine.isDone else { return }  // interrupted while in flight
        let event: SessionMachine.Event
        switch endpoint {
        case .create:
            let created: ClientCodec.Created?
            (event, created) = ClientCodec.createAnswered(answer, sentMicros: clock.modelMicros(atNanos: sessions[tag].sentNanos))
            sessions[tag].verificationID = created?.verificationID
            sessions[tag].authorizationURL = created?.authorizationURL
        case .authorize:
            event = ClientCodec.authorizeAnswered(answer)
        case .status:
            let (status, unknown) = ClientCodec.statusAnswered(answer)
            if let unknown { recorders[sessions[tag].spec.strategy].counters.unknownStatuses[unknown, default: 0] += 1 }
            event = .statusAnswered(status)
        case .userinfo, .evidence:
            event = .readAnswered
        }
        step(tag, event, at: nowNanos, loop)
    }

    public func requestDidStart(tag: Int, loop: any TransportLoop) {
        let nowNanos = wallNanos()
        let waited = nowNanos - sessions[tag].sentNanos
        sessions[tag].sentNanos = nowNanos  // sent when its transfer starts: the wait shows in slip, not latency
        countSend(tag, at: nowNanos, waitedNanos: waited)
    }

    /// The loop's own load once it has ended (nil unless the engine was given a harness recorder).
    public var harnessRecord: HarnessRecorder? {
        guard var harness else { return nil }
        harness.finish(at: wallNanos())
        return harness
    }

    public func webhookArrived(_ delivery: WebhookDelivery, loop: any TransportLoop) {
        deliver(delivery, at: wallNanos(), loop)
    }

    // MARK: Driving the machine

    /// Feeds one event to a session's machine at wall time `nanos` and carries out what it says.
    private func step(_ index: Int, _ event: SessionMachine.Event, at nanos: Int64, _ loop: (any TransportLoop)?) {
        if event == .arrived {
            totals.started += 1
            recorders[sessions[index].spec.strategy].countStart(interval: interval(nanos))
            configuration.metrics?.sessionStarted()
        }
        carry(index, sessions[index].machine.handle(event, at: clock.modelMicros(atNanos: nanos), policy), at: nanos, loop)
    }

    /// A webhook delivery for one of this engine's sessions, at wall time `nanos`: counted, and an accepted
    /// one goes to the session's machine.
    private func deliver(_ delivery: WebhookDelivery, at nanos: Int64, _ loop: any TransportLoop) {
        let index = delivery.route.session
        guard sessions.indices.contains(index) else { return }  // the receiver routes only to sessions that exist
        let strategy = sessions[index].spec.strategy
        guard delivery.receipt == .accepted, let message = delivery.message,
              sessions[index].isAbout(message.verificationID) else {
            let receipt = delivery.receipt == .accepted ? WebhookReceipt.malformed : delivery.receipt  // signed, but for another verification
            recorders[strategy].countWebhook(receipt, notice: nil, attempt: 0, deliveryLagMicros: 0, interval: interval(nanos))
            return
        }
        if let received = delivery.received {
            recorders[strategy].record(.webhookInboxWait, UInt64(clamping: max(1, (nanos - clock.nanos(since: received)) / 1_000)), interval: interval(nanos))
        }
        if let trace = configuration.trace {
            trace("⇐ webhook \(message.status.rawValue) attempt \(message.attempt) [\(sessions[index].spec.slot.key)]")
        }
        let now = clock.modelMicros(atNanos: nanos)
        let (kind, action) = sessions[index].machine.notify(message.event, at: now, policy)
        let offset = configuration.sharedClock ? 0 : sessions[index].machine.clockOffsetMicros ?? 0
        recorders[strategy].countWebhook(
            .accepted, notice: kind, attempt: message.attempt, deliveryLagMicros: message.occurredMillis.map { now - ($0 * 1_000 - offset) }, interval: interval(nanos)
        )
        carry(index, action, at: nanos, loop)
    }

    /// Carries out a machine's action at wall time `nanos`.
    private func carry(_ index: Int, _ action: SessionMachine.Action, at nanos: Int64, _ loop: (any TransportLoop)?) {
        switch action {
        case .none:
            break
        case .send(let endpoint):
            if let loop { send(index, endpoint, intended: nanos, loop) }
        case .wake(let micros):
            schedule.wake(index, at: max(nanos, clock.nanos(atModelMicros: micros)))
        case .end(let outcome):
            end(index, outcome, at: nanos, loop)
        }
    }

    /// Ends a session; with a loop, a closed workload starts its next session on it.
    private func end(_ index: Int, _ outcome: SessionOutcome, at nowNanos: Int64, _ loop: (any TransportLoop)?) {
        totals.ended += 1
        let session = sessions[index]
        let machine = session.machine
        let result = SessionResult(key: session.spec.slot.key, providerID: session.spec.slot.providerID, verificationID: session.verificationID, outcome: outcome, machine: machine)
        recorders[session.spec.strategy].recordEnd(machine, outcome, interval: interval(nowNanos))
        if let metrics = configuration.metrics {
            let lag = configuration.sharedClock ? machine.terminalSeenMicros.flatMap { seen in
                machine.serviceTerminalMillis.map { Int64(DetectionLag.micros(seenMicros: seen, serviceMicros: Double($0 * 1_000))) }
            } : nil
            metrics.sessionEnded(outcome, detectionLagMicros: lag)
        }
        recorders[session.spec.strategy].sessions.append(result)
        sessions[index].endedVerificationHash = session.verificationID?.hashValue
        sessions[index].verificationID = nil
        sessions[index].authorizationURL = nil
        if let loop, stop?.isRequested != true { startNextClosed(loop) }
    }

    private func startNextClosed(_ loop: any TransportLoop) {
        guard let next = schedule.nextClosed() else { return }
        step(next, .arrived, at: wallNanos(), loop)
    }

    private func dropEndedTimers() {
        schedule.dropEnded { sessions[$0].machine.isDone }
    }

    private func interruptAll(at nowNanos: Int64) {
        schedule.clear()
        for index in sessions.indices where !sessions[index].machine.isDone {
            step(index, .interrupted, at: nowNanos, nil)
        }
    }

    // MARK: Requests and measurements

    private func send(_ index: Int, _ endpoint: Endpoint, intended: Int64, _ loop: any TransportLoop) {
        let session = sessions[index]
        let webhookURL = configuration.webhookBaseURL.flatMap { base in configuration.strategies[session.spec.strategy].usesWebhooks ? "\(base)/\(index)" : nil }
        let written = codec.request(
            endpoint, providerID: session.spec.slot.providerID, verificationID: session.verificationID, authorizationURL: session.authorizationURL, webhookURL: webhookURL
        )
        let (method, url, body) = (written.post ? HTTPMethod.post : .get, written.url, written.body)
        let credentials = written.authenticated  // the browser, not the client, opens the authorization page
        if let trace = configuration.trace {
            trace("→ \(method.rawValue) \(url) [\(session.spec.slot.key)]" + (credentials && configuration.credentials != nil ? " Authorization: Basic [redacted]" : ""))
        }
        sessions[index].intendedNanos = intended
        sessions[index].inFlight = endpoint
        var headers = configuration.sendsWorkloadKey ? [HTTPHeader("X-Pollbench-Key", session.spec.slot.key)] : []
        if body != nil { headers.append(HTTPHeader("Content-Type", "application/json")) }
        let request = HTTPRequest(
            method: method, url: url, headers: headers, body: body, credentials: credentials ? configuration.credentials : nil, timeout: configuration.requestTimeout
        )
        if pacer.admit(request, tag: index, atNanos: wallNanos()) { submit(index, request, loop) }
    }

    /// Hands a request to the loop, after any wait for the rate cap. It counts as sent when its transfer
    /// starts: now, or when a connection frees up (``requestDidStart(tag:loop:)``).
    private func submit(_ index: Int, _ request: HTTPRequest, _ loop: any TransportLoop) {
        let submitted = wallNanos()
        sessions[index].sentNanos = submitted
        totals.requests += 1
        if loop.submit(request, tag: index) { countSend(index, at: submitted, waitedNanos: 0) }
    }

    /// A request's transfer started at `nanos`: its slip (after the rate cap and any wait for a connection) is measured here.
    private func countSend(_ index: Int, at nanos: Int64, waitedNanos: Int64) {
        let slip = UInt64(clamping: max(0, (nanos - sessions[index].intendedNanos) / 1_000))
        recorders[sessions[index].spec.strategy].countSend(slipMicros: slip, interval: interval(nanos))
        harness?.started(at: nanos, waitedNanos: waitedNanos)
        if waitedNanos > 0 { configuration.metrics?.waitedForConnection(micros: waitedNanos / 1_000) }
    }

    private func record(_ endpoint: Endpoint, _ result: HTTPResult, fields: JSONFields.Document?, session index: Int, at nowNanos: Int64) {
        let session = sessions[index]
        if let trace = configuration.trace {
            let outcome = switch result {
            case .success(let response): String(response.status)
            case .failure(let error): "transport:\(error.kind.rawValue) (curl \(error.code): \(error.message))"
            }
            trace("← \(outcome) \(endpoint.rawValue) \(String(format: "%.1f", Double(nowNanos - session.sentNanos) / 1e6)) ms [\(session.spec.slot.key)]")
        }
        let answer: RequestCounters.Answer
        switch result {
        case .success(let response):
            let malformed = response.status < 400 && response.status != 204 && fields == nil
            answer = .response(status: response.status, errorCode: response.status >= 400 ? JSONFields.errorCode(response.body) : nil, malformed: malformed)
            configuration.metrics?.answered(endpoint, status: String(response.status), latencyMicros: (nowNanos - session.sentNanos) / 1_000)
        case .failure(let error):
            answer = .transport(error.kind)
            configuration.metrics?.answered(endpoint, status: "transport:\(error.kind.rawValue)", latencyMicros: (nowNanos - session.sentNanos) / 1_000)
        }
        let interval = interval(nowNanos)
        recorders[session.spec.strategy].countAnswer(
            endpoint, answer, fromIntendedMicros: (nowNanos - session.intendedNanos) / 1_000, fromSentMicros: (nowNanos - session.sentNanos) / 1_000, interval: interval
        )
        if case .success(let response) = result { recorders[session.spec.strategy].countTransfer(endpoint, response, interval: interval) }
        if case .response(429, _, _) = answer { totals.rateLimited += 1 }
    }

    private func publishProgress() {
        guard let progress else { return }
        progress.add(
            started: totals.started - reported.started, ended: totals.ended - reported.ended,
            requests: totals.requests - reported.requests, rateLimited: totals.rateLimited - reported.rateLimited
        )
        reported = totals
    }

    // MARK: Helpers

    /// A transport's result as the client codec reads it.
    private func answer(_ result: HTTPResult) -> ClientCodec.Answer {
        guard case .success(let response) = result else { return ClientCodec.Answer(status: nil, fields: nil, body: [], retryAfterMillis: nil) }
        return ClientCodec.Answer(
            status: response.status, fields: ClientCodec.documentFields(status: response.status, body: response.body), body: response.body,
            retryAfterMillis: retryAfterMillis(response)
        )
    }

    /// `Retry-After` in model milliseconds (seconds form, or a date against the response's `Date`, else
    /// against the injected clock).
    private func retryAfterMillis(_ response: HTTPResponse) -> Int64? {
        guard let value = response.headers.retryAfter, let retry = RetryAfter(headerValue: value) else { return nil }
        let serverNow = response.headers.date.flatMap(HTTPDate.epochSeconds).map(Double.init) ?? Double(clock.modelMicros(atNanos: wallNanos())) / 1_000_000
        return Int64((retry.delaySeconds(nowEpochSeconds: serverNow) * 1_000).rounded(.up))
    }

    private func wallNanos() -> Int64 { clock.nanos(since: now()) }

    /// The record's interval that wall time `nanos` falls in.
    private func interval(_ nanos: Int64) -> Int { Int((nanos - (intervalOriginNanos ?? startNanos)) / intervalNanos) }

    /// Where this engine's intervals sit in time, interval 0 being `offsetSeconds` after the run's start.
    public func timeline(offsetSeconds: Double) -> IntervalTimeline {
        IntervalTimeline(clock: clock, originNanos: intervalOriginNanos ?? startNanos, intervalNanos: intervalNanos, offsetSeconds: offsetSeconds)
    }
}
