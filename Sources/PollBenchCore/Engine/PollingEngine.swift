import Foundation
import DequeModule
import HeapModule

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

/// The polling engine: one per transport event loop. It owns its sessions, a min-heap of timers
/// (arrivals and due polls) and its recorders, so nothing on its path takes a lock. Every poll has
/// an intended send time, and latency is recorded from it as well as from the actual send.
public final class PollingEngine: TransportLoopDriver {
    private enum Action: Comparable {
        case start, poll, timeout
    }

    private struct Timer: Comparable {
        var due: Int64
        var session: Int
        var action: Action

        static func < (a: Timer, b: Timer) -> Bool { (a.due, a.session) < (b.due, b.session) }
    }

    private enum Phase {
        case waiting, creating, scheduled, polling, authorizing, fetchingUserinfo, fetchingEvidence, done
    }

    private struct Session {
        /// Its place in `sessions`, and the tag of its requests.
        let index: Int
        let spec: EngineSessionSpec
        var schedule: PollSchedule
        var random: SplitMix64
        var phase = Phase.waiting
        var createAttempts = 0
        var verificationID: String?
        var deadlineMicros: Int64 = .max
        var intendedNanos: Int64 = 0
        var sentNanos: Int64 = 0
        /// The endpoint of the request in flight, named when it is sent: an interrupt may end the
        /// session before the answer comes, and the answer must still count where it belongs.
        var inFlight = Endpoint.create
        var result: SessionResult
    }

    private let configuration: EngineConfiguration
    private let clock: ModelClock
    private let now: () -> ContinuousClock.Instant
    private let progress: ProgressBoard?
    private let stop: StopSignal?
    private var sessions: [Session]
    private var timers = Heap<Timer>()
    private var closedQueue: [Int] = []
    private let closedConcurrency: Int
    private var startNanos: Int64 = 0
    private var reported = (started: 0, ended: 0, requests: 0, rateLimited: 0)
    private var totals = (started: 0, ended: 0, requests: 0, rateLimited: 0)
    private let statusBase: String
    /// The request-rate cap, in wall milliseconds, and the requests waiting for it in order.
    private var limiter: TokenBucket?
    private var throttled = Deque<(tag: Int, request: HTTPRequest)>()

    /// Measurements, one recorder per strategy index.
    public private(set) var recorders: [StrategyRecorder]

    /// - Parameters:
    ///   - closedConcurrency: for a closed workload, how many of these sessions run at once.
    ///   - now: the wall clock; tests pass a virtual one.
    public init(
        configuration: EngineConfiguration, sessions specs: [EngineSessionSpec], clock: ModelClock, closedConcurrency: Int = 0,
        now: @escaping () -> ContinuousClock.Instant = { .now }, progress: ProgressBoard? = nil, stop: StopSignal? = nil
    ) {
        self.configuration = configuration
        self.clock = clock
        self.now = now
        self.progress = progress
        self.stop = stop
        statusBase = configuration.baseURL + "/verifications/"
        recorders = Array(repeating: StrategyRecorder(), count: configuration.strategies.count)
        sessions = specs.enumerated().map { index, spec in
            Session(
                index: index,
                spec: spec,
                schedule: PollSchedule(strategy: configuration.strategies[spec.strategy]),
                random: SplitMix64(seed: configuration.seed, key: "\(spec.slot.key)/\(spec.strategy)"),
                result: SessionResult(key: spec.slot.key, providerID: spec.slot.providerID, outcome: .error, polls: 0, createSentMicros: 0)
            )
        }
        closedQueue = specs.indices.filter { specs[$0].slot.arrivalMillis == nil }.reversed()
        self.closedConcurrency = closedConcurrency
        limiter = configuration.maxRequestsPerSecond.map { TokenBucket(TokenBucket.Limit(rate: $0, burst: max(1, Int($0 / 10))), now: 0) }
    }

    // MARK: Loop callbacks

    public func loopDidStart(_ loop: any TransportLoop) {
        startNanos = wallNanos()
        for (index, session) in sessions.enumerated() {
            if let arrival = session.spec.slot.arrivalMillis {
                timers.insert(Timer(due: startNanos + clock.wallNanos(modelMillis: arrival), session: index, action: .start))
            }
        }
        for _ in 0..<closedConcurrency { startNextClosed(loop) }
    }

    public func turn(_ loop: any TransportLoop) -> LoopTurn {
        let nowNanos = wallNanos()
        if stop?.isRequested == true { interruptAll(at: nowNanos) }
        drainThrottled(loop)
        while let next = timers.min, next.due <= nowNanos {
            timers.removeMin()
            fire(next, at: nowNanos, loop)
        }
        publishProgress()
        var wait: Int64? = timers.min.map { $0.due - nowNanos }
        if !throttled.isEmpty, var limiter {
            let tokenWait = (limiter.take(at: nowNanos / 1_000_000) ?? 0) * 1_000_000  // only asks: drainThrottled took what there was
            wait = min(wait ?? .max, max(1_000_000, tokenWait))
        }
        if let wait { return .wait(nanoseconds: wait) }
        let open = totals.started - totals.ended
        return open == 0 && closedQueue.isEmpty ? .finished : .wait(nanoseconds: 100_000_000)
    }

    public func requestDidFinish(tag: Int, result: HTTPResult, loop: any TransportLoop) {
        let nowNanos = wallNanos()
        var session = sessions[tag]
        let endpoint = session.inFlight
        let fields = Self.documentFields(result)  // parsed once, for the counts and for the session's next step
        record(endpoint, result, fields: fields, session: session, at: nowNanos)
        guard session.phase != .done else { return }  // interrupted while in flight
        switch session.phase {
        case .creating: created(&session, result, fields, at: nowNanos, loop)
        case .polling: polled(&session, result, fields, at: nowNanos, loop)
        case .authorizing: authorized(&session, result, fields, at: nowNanos, loop)
        case .fetchingUserinfo:
            session.phase = .fetchingEvidence
            send(&session, tag: tag, .get, "\(statusBase)\(session.verificationID ?? "")/evidence", intended: nowNanos, loop)
        case .fetchingEvidence: end(&session, .completed, at: nowNanos, loop)
        case .waiting, .scheduled, .done: break
        }
        sessions[tag] = session
    }

    // MARK: Session steps

    private func fire(_ timer: Timer, at nowNanos: Int64, _ loop: any TransportLoop) {
        var session = sessions[timer.session]
        switch (timer.action, session.phase) {
        case (.start, .waiting):
            start(&session, intended: timer.due, at: nowNanos, loop)
        case (.start, .creating):  // a create retry
            sendCreate(&session, intended: timer.due, loop)
        case (.poll, .scheduled):
            session.phase = .polling
            send(&session, tag: timer.session, .get, statusBase + (session.verificationID ?? ""), intended: timer.due, loop)
        case (.timeout, .scheduled):
            end(&session, .clientTimeout, at: nowNanos, loop)
        default:
            break
        }
        sessions[timer.session] = session
    }

    private func start(_ session: inout Session, intended: Int64, at nowNanos: Int64, _ loop: any TransportLoop) {
        totals.started += 1
        updateRecorder(session) { $0.seconds[$0.bucket(secondIndex(nowNanos))].started += 1 }
        session.phase = .creating
        session.result.createSentMicros = clock.modelMicros(atNanos: intended)
        session.deadlineMicros = session.result.createSentMicros + configuration.clientTimeoutMillis * 1_000
        sendCreate(&session, intended: intended, loop)
    }

    private func sendCreate(_ session: inout Session, intended: Int64, _ loop: any TransportLoop) {
        session.createAttempts += 1
        var body = JSONObjectWriter()
        body.string("providerId", session.spec.slot.providerID)
        body.string("redirectUri", configuration.redirectUri)
        send(&session, tag: session.index, .post, configuration.baseURL + "/verifications", body: body.finish(), intended: intended, loop)
    }

    private func created(_ session: inout Session, _ result: HTTPResult, _ fields: [String: String]?, at nowNanos: Int64, _ loop: any TransportLoop) {
        let tag = session.index
        guard case .success(let response) = result, response.status == 201, let fields, let id = fields["verificationId"] else {
            let retryable: Bool
            var waitMillis: Int64 = 1_000 << min(session.createAttempts - 1, 5)
            switch result {
            case .success(let response):
                // A 201 whose body cannot be read created a session already: retrying would make a second one.
                retryable = response.status == 429 || response.status >= 500
                if let retry = retryAfterMillis(response) { waitMillis = max(waitMillis, retry) }
            case .failure:
                retryable = true
            }
            if retryable, session.createAttempts <= configuration.createRetries {
                timers.insert(Timer(due: nowNanos + clock.wallNanos(modelMillis: waitMillis), session: tag, action: .start))
            } else {
                end(&session, .error, at: nowNanos, loop)
            }
            return
        }
        session.verificationID = id
        session.result.verificationID = id
        session.result.serviceCreatedMillis = fields["createdAt"].flatMap(ISO8601Millis.parse)
        session.result.createReceivedMicros = clock.modelMicros(atNanos: nowNanos)
        session.result.createSentMicros = clock.modelMicros(atNanos: session.sentNanos)
        if fields["flowType"] == "redirect", let url = JSONFields.object(response.body, field: "flowDetails")?["authorizationUrl"] {
            session.phase = .authorizing
            send(&session, tag: tag, .get, url, intended: nowNanos, credentials: false, loop)
        } else {
            schedulePoll(&session, delayMillis: session.schedule.firstDelay(&session.random), at: nowNanos, loop)
        }
    }

    /// The browser came back from the authorization page: read the status when the user returns, or
    /// give up at the client timeout if that comes first.
    private func authorized(_ session: inout Session, _ result: HTTPResult, _ fields: [String: String]?, at nowNanos: Int64, _ loop: any TransportLoop) {
        let tag = session.index
        if case .success(let response) = result, response.status == 200, let fields {
            session.phase = .scheduled
            // returnAt is on the service's clock: move it onto ours with this session's create round trip.
            let offset = session.result.clockOffsetMicros ?? 0
            let returnMicros = fields["returnAt"].flatMap(ISO8601Millis.parse).map { $0 * 1_000 - offset }
            if let returnMicros, returnMicros < session.deadlineMicros {
                timers.insert(Timer(due: max(nowNanos, clock.nanos(atModelMicros: returnMicros)), session: tag, action: .poll))
            } else {
                // The user never comes back (or not before the client gives up).
                timers.insert(Timer(due: max(nowNanos, clock.nanos(atModelMicros: session.deadlineMicros)), session: tag, action: .timeout))
            }
        } else {
            schedulePoll(&session, delayMillis: session.schedule.nextDelay(after: .failed, &session.random), at: nowNanos, loop)
        }
    }

    private func polled(_ session: inout Session, _ result: HTTPResult, _ fields: [String: String]?, at nowNanos: Int64, _ loop: any TransportLoop) {
        session.result.polls += 1
        let outcome: PollSchedule.Outcome
        switch result {
        case .failure:
            outcome = .failed
        case .success(let response):
            if response.status == 200, let fields, let status = fields["status"] {
                if let terminal = Self.terminalOutcome(status) {
                    session.result.terminalSeenMicros = clock.modelMicros(atNanos: nowNanos)
                    session.result.serviceTerminalMillis = switch terminal {
                    case .completed: fields["verifiedAt"].flatMap(ISO8601Millis.parse)
                    case .expired: fields["expiresAt"].flatMap(ISO8601Millis.parse)
                    default: nil
                    }
                    if terminal == .completed {
                        session.result.outcome = .completed
                        session.phase = .fetchingUserinfo
                        send(&session, tag: session.index, .get, "\(statusBase)\(session.verificationID ?? "")/userinfo", intended: nowNanos, loop)
                    } else {
                        end(&session, terminal, at: nowNanos, loop)
                    }
                    return
                }
                if !Self.knownOpenStatuses.contains(status) {
                    recorders[session.spec.strategy].counters.unknownStatuses[status, default: 0] += 1
                }
                outcome = .notYet
            } else if response.status == 404 {
                end(&session, .error, at: nowNanos, loop)
                return
            } else if let retry = retryAfterMillis(response) {
                recorders[session.spec.strategy].counters.retryAfterWaitMillis += retry
                outcome = .retryAfter(millis: retry)
            } else {
                outcome = .failed
            }
        }
        schedulePoll(&session, delayMillis: session.schedule.nextDelay(after: outcome, &session.random), at: nowNanos, loop)
    }

    private func schedulePoll(_ session: inout Session, delayMillis: Int64, at nowNanos: Int64, _ loop: any TransportLoop) {
        let due = nowNanos + clock.wallNanos(modelMillis: delayMillis)
        if clock.modelMicros(atNanos: due) > session.deadlineMicros {
            end(&session, .clientTimeout, at: nowNanos, loop)
            return
        }
        session.phase = .scheduled
        timers.insert(Timer(due: due, session: session.index, action: .poll))
    }

    /// Ends a session; with a loop, a closed workload starts its next session on it.
    private func end(_ session: inout Session, _ outcome: SessionOutcome, at nowNanos: Int64, _ loop: (any TransportLoop)?) {
        guard session.phase != .done else { return }
        let created = session.verificationID != nil
        session.phase = .done
        session.result.outcome = outcome
        totals.ended += 1
        let result = session.result
        let second = secondIndex(nowNanos)
        updateRecorder(session) { recorder in
            recorder.outcomes[outcome, default: 0] += 1
            recorder.seconds[recorder.bucket(second)].ended += 1
            if created { _ = recorder.pollsPerSession.record(UInt64(result.polls)) }
            if let seen = result.terminalSeenMicros {
                _ = recorder.timeToResult.record(UInt64(clamping: max(1, seen - result.createSentMicros)))
            }
            recorder.sessions.append(result)
        }
        if let loop, stop?.isRequested != true { startNextClosed(loop) }
    }

    private func startNextClosed(_ loop: any TransportLoop) {
        guard let next = closedQueue.popLast() else { return }
        var session = sessions[next]
        let nowNanos = wallNanos()
        start(&session, intended: nowNanos, at: nowNanos, loop)
        sessions[next] = session
    }

    private func interruptAll(at nowNanos: Int64) {
        closedQueue.removeAll()
        timers = Heap()
        for index in sessions.indices where sessions[index].phase != .done {
            if sessions[index].phase == .waiting {
                sessions[index].phase = .done  // never started: not a result
            } else {
                var session = sessions[index]
                end(&session, .interrupted, at: nowNanos, nil)
                sessions[index] = session
            }
        }
    }

    // MARK: Requests and measurements

    private func send(
        _ session: inout Session, tag: Int, _ method: HTTPMethod, _ url: String, body: [UInt8]? = nil, intended: Int64,
        credentials: Bool = true, _ loop: any TransportLoop
    ) {
        if let trace = configuration.trace {
            trace("→ \(method.rawValue) \(url) [\(session.spec.slot.key)]" + (credentials && configuration.credentials != nil ? " Authorization: Basic [redacted]" : ""))
        }
        session.intendedNanos = intended
        session.inFlight = endpointInFlight(session.phase)
        var headers = [HTTPHeader("X-Pollbench-Key", session.spec.slot.key)]
        if body != nil { headers.append(HTTPHeader("Content-Type", "application/json")) }
        let request = HTTPRequest(
            method: method, url: url, headers: headers, body: body, credentials: credentials ? configuration.credentials : nil, timeout: configuration.requestTimeout
        )
        guard throttled.isEmpty, takeToken() else {
            throttled.append((tag, request))
            return
        }
        submit(&session, tag: tag, request, loop)
    }

    /// Puts a request on the wire now and counts it; slip is measured here, after any wait for the rate cap.
    private func submit(_ session: inout Session, tag: Int, _ request: HTTPRequest, _ loop: any TransportLoop) {
        let sent = wallNanos()
        session.sentNanos = sent
        totals.requests += 1
        let slip = UInt64(clamping: max(0, (sent - session.intendedNanos) / 1_000))
        let second = secondIndex(sent)
        updateRecorder(session) { recorder in
            recorder.counters.requests += 1
            recorder.seconds[recorder.bucket(second)].requests += 1
            _ = recorder.slip.record(slip)
        }
        loop.submit(request, tag: tag)
    }

    /// Whether the rate cap lets one more request go now (always, without a cap).
    private func takeToken() -> Bool {
        guard var bucket = limiter else { return true }
        defer { limiter = bucket }
        return bucket.take(at: wallNanos() / 1_000_000) == nil
    }

    /// Sends the requests that waited for the rate cap, oldest first, as far as it allows.
    private func drainThrottled(_ loop: any TransportLoop) {
        while let next = throttled.first {
            if sessions[next.tag].phase == .done {
                throttled.removeFirst()  // interrupted while waiting
                continue
            }
            guard takeToken() else { return }
            throttled.removeFirst()
            var session = sessions[next.tag]
            submit(&session, tag: next.tag, next.request, loop)
            sessions[next.tag] = session
        }
    }

    private func record(_ endpoint: Endpoint, _ result: HTTPResult, fields: [String: String]?, session: Session, at nowNanos: Int64) {
        if let trace = configuration.trace {
            let outcome = switch result {
            case .success(let response): String(response.status)
            case .failure(let error): "transport:\(error.kind.rawValue)"
            }
            trace("← \(outcome) \(endpoint.rawValue) \(String(format: "%.1f", Double(nowNanos - session.sentNanos) / 1e6)) ms [\(session.spec.slot.key)]")
        }
        let second = secondIndex(nowNanos)
        var limited = false
        updateRecorder(session) { recorder in
            recorder.recordLatency(endpoint, fromIntended: (nowNanos - session.intendedNanos) / 1_000, fromSent: (nowNanos - session.sentNanos) / 1_000)
            switch result {
            case .success(let response):
                recorder.counters.byEndpoint[endpoint.rawValue, default: [:]][String(response.status), default: 0] += 1
                if response.status == 429 {
                    recorder.counters.rateLimited += 1
                    recorder.seconds[recorder.bucket(second)].rateLimited += 1
                    limited = true
                }
                if response.status >= 400 {
                    if let code = Self.errorCode(response.body) { recorder.counters.apiErrorCodes[code, default: 0] += 1 }
                } else if fields == nil, response.status != 204 {
                    recorder.counters.malformedBodies += 1
                }
            case .failure(let error):
                recorder.counters.byEndpoint[endpoint.rawValue, default: [:]]["transport:\(error.kind.rawValue)", default: 0] += 1
                recorder.counters.transportErrors[error.kind.rawValue, default: 0] += 1
            }
        }
        if limited { totals.rateLimited += 1 }
    }

    /// Changes a session's recorder in place. (Copying it out and back would make every append and
    /// histogram record copy the whole array while both copies share it.)
    private func updateRecorder(_ session: Session, _ change: (inout StrategyRecorder) -> Void) {
        change(&recorders[session.spec.strategy])
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

    private static let knownOpenStatuses: Set<String> = ["initiated", "pending", "awaiting_user_action", "authenticating"]

    private static func terminalOutcome(_ status: String) -> SessionOutcome? {
        switch status {
        case "completed": .completed
        case "failed": .failed
        case "cancelled": .cancelled
        case "expired": .expired
        default: nil
        }
    }

    /// The string fields of a successful response's JSON document; nil for errors, 204s and bodies
    /// that are not a JSON object.
    private static func documentFields(_ result: HTTPResult) -> [String: String]? {
        guard case .success(let response) = result, response.status < 400, response.status != 204 else { return nil }
        return JSONFields.strings(response.body)
    }

    /// The envelope's `code` (a number or a string), for error counts.
    private static func errorCode(_ body: [UInt8]) -> String? {
        if let code = JSONFields.strings(body)?["code"] { return code }
        guard let text = String(validating: body, as: UTF8.self), let range = text.firstRange(of: "\"code\":") else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        return digits.isEmpty ? nil : String(digits)
    }

    /// `Retry-After` in model milliseconds (seconds form, or a date against the response's `Date`).
    private func retryAfterMillis(_ response: HTTPResponse) -> Int64? {
        guard let value = response.headers.retryAfter, let retry = RetryAfter(headerValue: value) else { return nil }
        let serverNow = response.headers.date.flatMap(HTTPDate.epochSeconds).map(Double.init) ?? Double(clock.nowMillis()) / 1_000
        return Int64((retry.delaySeconds(nowEpochSeconds: serverNow) * 1_000).rounded(.up))
    }

    private func endpointInFlight(_ phase: Phase) -> Endpoint {
        switch phase {
        case .creating: .create
        case .authorizing: .authorize
        case .fetchingUserinfo: .userinfo
        case .fetchingEvidence: .evidence
        default: .status
        }
    }

    private func wallNanos() -> Int64 { clock.nanos(since: now()) }

    private func secondIndex(_ nanos: Int64) -> Int { Int((nanos - startNanos) / 1_000_000_000) }
}
