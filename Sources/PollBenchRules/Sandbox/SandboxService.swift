import DequeModule
import Foundation
import Synchronization

/// The simulated verification service: routing, auth, the API's documents and ground truth, over the
/// behaviour of ``ServiceRules`` (lifecycle, budgets, faults, outages). Pure and clock-free: every call
/// takes the model time `now`, so tests drive it with a mock clock and the live server and the engine
/// simulation share it. Thread safe.
public final class SandboxService: Sendable {
    public let configuration: SandboxConfiguration
    public let rules: ServiceRules
    private let providersByID: [String: Provider]
    /// Each client's exact `Authorization` value, so a request is checked without decoding base64.
    private let expectedAuthorization: [(header: [UInt8], client: SandboxConfiguration.Client)]
    private let state: Mutex<State>
    private let originURL = Mutex("http://127.0.0.1")
    /// Each client's webhook signing key.
    private let webhookSecrets: [String: String]
    /// Called when a webhook is planned, so that a sender asleep until the next one can look again.
    private let webhookPlanned = Mutex<(@Sendable () -> Void)?>(nil)

    private struct State {
        var sessions: [String: VerificationSession] = [:]
        var evictionQueue: Deque<(evictAt: Int64, id: String)> = []
        var budgets: [String: ClientBudget] = [:]
        /// Fault streams by workload key (or client, for requests without one); kept only when faults are
        /// configured, and dropped once idle for ``ServiceRules/faultStreamIdleMillis`` (the rules start them
        /// afresh then anyway), so that a long-lived sandbox holds only its recent keys'.
        var faultStreams: [String: ServiceRules.HeldFaultStream] = [:]
        /// When the idle fault streams are next dropped (model ms).
        var nextFaultStreamSweep: Int64 = 0
        var created = 0
        var truth = GroundTruth()
        /// Webhook attempts waiting, by session id.
        var outbox: WebhookOutbox<String>
    }

    /// Creates a service whose model time starts at `startMillis`.
    public init(configuration: SandboxConfiguration, startMillis: Int64) {
        self.configuration = configuration
        rules = ServiceRules(configuration: configuration, startMillis: startMillis)
        providersByID = Dictionary(configuration.providers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        expectedAuthorization = configuration.clients.map { client in
            (Array(BasicAuthorization.value(id: client.id, secret: client.secret).utf8), client)
        }
        webhookSecrets = Dictionary(configuration.clients.compactMap { client in client.webhookSecret.map { (client.id, $0) } }, uniquingKeysWith: { first, _ in first })
        var initial = State(outbox: WebhookOutbox(rules: rules.webhooks))
        for client in configuration.clients {
            initial.budgets[client.id] = ClientBudget(rateLimit: client.rateLimit, endpointLimits: client.endpointLimits, now: startMillis)
        }
        state = Mutex(initial)
    }

    /// The scheme, host and port that absolute URLs (`authorizationUrl`) point at; set once the server is bound.
    public var origin: String {
        get { originURL.withLock { $0 } }
        set { originURL.withLock { $0 = newValue } }
    }

    // MARK: Requests

    /// Answers one request at model time `now`.
    public func handle(_ request: SandboxRequest, now: Int64) -> SandboxResponse {
        let route = Route(method: request.method, path: request.path, generation: configuration.api)
        let response = respond(route, request, now: now)
        state.withLock { $0.truth.count(route.endpoint, status: response.status) }
        return response
    }

    private func respond(_ route: Route, _ request: SandboxRequest, now: Int64) -> SandboxResponse {
        switch route.kind {
        case .notFound:
            return error(.routeNotFound(request.path), request, now)
        case .methodNotAllowed(let allowed):
            var response = error(.methodNotAllowed(request.method), request, now)
            response.headers.append(("Allow", allowed))
            return response
        case .authorize(let id):
            return authorize(id, request, now: now)
        case .api(let endpoint, let id):
            guard let client = authenticate(request.authorization) else { return error(.invalidCredentials, request, now) }
            let served = rules.serve(admit(endpoint, client: client.id, key: request.workloadKey, now: now)) {
                switch endpoint {
                case .create: create(client, request, now: now)
                case .status, .userinfo, .evidence, .cancel: session(endpoint, id ?? "", client: client, request, now: now)
                case .providers: providers(now: now)
                case .authorize, .unknown: error(.routeNotFound(request.path), request, now)
                }
            } status: { $0.status }
            switch served {
            case .rateLimited(let seconds):
                var response = error(.rateLimited, request, now)
                response.headers.append(("Retry-After", String(seconds)))
                state.withLock { $0.truth.rateLimited += 1 }
                return response
            case .serverError(let status):
                state.withLock { $0.truth.faults[FaultKind.serverError.rawValue, default: 0] += 1 }
                return error(.internalError(status), request, now)
            case .handled(var response, let delivery, let latencyMicros):
                deliver(&response, delivery, latencyMicros: latencyMicros)
                return response
            }
        }
    }

    private func create(_ client: SandboxConfiguration.Client, _ request: SandboxRequest, now: Int64) -> SandboxResponse {
        guard request.body.count <= configuration.maxBodyBytes else { return error(.bodyTooLarge(configuration.maxBodyBytes), request, now) }
        let fields: [String: Any]
        switch CreateBody.parse(request.body) {
        case .success(let parsed): fields = parsed
        case .failure(let problem): return error(problem, request, now)
        }
        guard let providerID = fields[APIField.providerID] as? String else {
            return error(fields[APIField.providerID] == nil ? .missingParameter(APIField.providerID) : .invalidParameter("'\(APIField.providerID)' must be a string."), request, now)
        }
        guard let provider = providersByID[providerID], client.enabledProviders?.contains(providerID) ?? true else {
            return error(.providerNotEnabled(providerID), request, now)
        }
        if rules.inOutage(provider.id, at: now) {
            state.withLock { $0.truth.faults[FaultKind.outage.rawValue, default: 0] += 1 }
            return error(.providerUnavailable(providerID), request, now)
        }
        let graceMillis = Int64((configuration.graceSeconds * 1_000).rounded())
        let session: VerificationSession = state.withLock { state in
            evictExpired(&state, now: now)
            state.created += 1
            let key = request.workloadKey ?? "\(client.id)#\(state.created)"
            var ids = SplitMix64(seed: configuration.seed, key: "id#\(state.created)")
            var id = String(format8: ids.next()) + String(format8: ids.next())
            while state.sessions[id] != nil { id = String(format8: ids.next()) + String(format8: ids.next()) }
            let session = VerificationSession(
                id: id, clientID: client.id, key: key, provider: provider,
                lifecycle: rules.lifecycle(plan: rules.plan(key: key, provider: provider), provider: provider, createdAt: now),
                redirectUri: fields[APIField.redirectURI] as? String, webhookUrl: fields[APIField.webhookURL] as? String, creation: state.created
            )
            state.sessions[id] = session
            state.evictionQueue.append((session.expiresAt + graceMillis, id))
            planWebhooks(&state, session, previous: [])
            return session
        }
        return SandboxResponse(status: 201, json: SessionDocuments.create(session, origin: request.origin ?? origin))
    }

    private func session(_ endpoint: SandboxEndpoint, _ id: String, client: SandboxConfiguration.Client, _ request: SandboxRequest, now: Int64) -> SandboxResponse {
        let found: VerificationSession? = state.withLock { state in
            guard var session = state.sessions[id], session.clientID == client.id else { return nil }
            let before = webhookEvents(session)
            if endpoint == .cancel, session.cancel(at: now) {
                state.sessions[id] = session
                planWebhooks(&state, session, previous: before)
            }
            return session
        }
        guard let session = found else { return error(.sessionNotFound(id), request, now) }
        let status = session.status(at: now)
        switch endpoint {
        case .status:
            return SandboxResponse(status: 200, json: SessionDocuments.status(session, now: now, generation: configuration.api))
        case .cancel:
            return session.cancelledAt == now ? SandboxResponse(status: 204) : error(.invalidTransition(status.rawValue), request, now)
        case .userinfo, .evidence:
            guard let terminal = session.terminal(at: now), terminal.status == .completed else { return error(.notCompleted(status.rawValue), request, now) }
            let json = endpoint == .userinfo ? SessionDocuments.userinfo(session, verifiedAt: terminal.at) : SessionDocuments.evidence(session)
            return SandboxResponse(status: 200, json: json)
        default:
            return error(.routeNotFound(request.path), request, now)
        }
    }

    private func providers(now: Int64) -> SandboxResponse {
        SandboxResponse(status: 200, json: SessionDocuments.providers(configuration.providers) { !rules.inOutage($0.id, at: now) })
    }

    /// The user's browser opening a redirect flow's authorization page: the simulated user starts then.
    /// Answers when the browser will be sent back to `redirectUri` (null: the user abandons).
    private func authorize(_ id: String, _ request: SandboxRequest, now: Int64) -> SandboxResponse {
        let found: VerificationSession? = state.withLock { state in
            guard var session = state.sessions[id], session.provider.flowType == .redirect else { return nil }
            let before = webhookEvents(session)
            session.open(at: now)
            state.sessions[id] = session
            planWebhooks(&state, session, previous: before)
            return session
        }
        guard let session = found else { return error(.sessionNotFound(id), request, now) }
        var json = JSONObjectWriter()
        json.string(APIField.verificationID, session.id)
        json.string(APIField.redirectURI, session.redirectUri)
        json.string(APIField.returnAt, session.lifecycle.returnAt.map(ISO8601Millis.format))
        return SandboxResponse(status: 200, json: json.finish())
    }

    private func error(_ problem: APIError, _ request: SandboxRequest, _ now: Int64) -> SandboxResponse {
        errorResponse(problem, instance: request.path, now: now)
    }

    /// An error as this service's API generation writes it.
    public func errorResponse(_ problem: APIError, instance: String, now: Int64) -> SandboxResponse {
        let generation = configuration.api
        var response = SandboxResponse(status: problem.status, headers: [("Content-Type", generation.errorContentType)])
        response.body = generation.errorDocument(problem, instance: instance, timestamp: now)
        return response
    }

    // MARK: Auth and budgets

    /// The client whose Basic `Authorization` value this is. Every client's value is compared in
    /// constant time, so the answer takes as long for a near miss as for garbage.
    private func authenticate(_ header: String?) -> SandboxConfiguration.Client? {
        guard let header else { return nil }
        var match: SandboxConfiguration.Client?
        for expected in expectedAuthorization where ConstantTime.equal(header, expected.header) {
            match = expected.client
        }
        return match
    }

    /// The rules' admission of one authenticated request: the client's budget, then a fault from the
    /// stream of its workload key (or of the client, for a request without one).
    private func admit(_ endpoint: SandboxEndpoint, client: String, key: String?, now: Int64) -> ServiceRules.Admission {
        state.withLock { state in
            guard var budget = state.budgets[client] else { return .admitted(.none) }
            defer { state.budgets[client] = budget }
            // Without faults there is no stream: nothing is looked up or kept.
            guard rules.injectsFaults else {
                var none: SplitMix64?
                return rules.admit(endpoint, budget: &budget, faults: &none, at: now)
            }
            let streamKey = key ?? "client:" + client
            defer { Self.dropIdleFaultStreams(&state, rules: rules, now: now) }
            return rules.admit(endpoint, budget: &budget, faults: &state.faultStreams[streamKey], key: streamKey, at: now)
        }
    }

    /// Drops the fault streams idle for longer than the rules keep them, every half of that time.
    private static func dropIdleFaultStreams(_ state: inout State, rules: ServiceRules, now: Int64) {
        guard now >= state.nextFaultStreamSweep else { return }
        state.faultStreams = state.faultStreams.filter { now - $0.value.lastUse <= rules.faultStreamIdleMillis }
        state.nextFaultStreamSweep = now + rules.faultStreamIdleMillis / 2
    }

    /// Fault streams held now (for a test of memory).
    public func heldFaultStreamCount() -> Int {
        state.withLock { $0.faultStreams.count }
    }

    /// Applies a drawn delivery fault and latency to an answer, and counts them.
    private func deliver(_ response: inout SandboxResponse, _ delivery: InjectedFault.Delivery, latencyMicros: Int64) {
        var kinds: [FaultKind] = []
        switch delivery {
        case .normal: break
        case .cut:
            response.delivery = .closeMidResponse
            kinds.append(.close)
        case .malformed:
            response.body = Array(response.body.prefix(response.body.count / 2)) + Array("\u{1}".utf8)
            kinds.append(.malformed)
        case .drip(let millis):
            response.delivery = .drip(millis: millis)
            kinds.append(.drip)
        }
        if latencyMicros > 0 {
            response.delay = .microseconds(latencyMicros)
            kinds.append(.latency)
        }
        if !kinds.isEmpty {
            state.withLock { state in for kind in kinds { state.truth.faults[kind.rawValue, default: 0] += 1 } }
        }
    }

    // MARK: Webhooks

    /// What a session announces as it stands (nothing without a webhook URL).
    private func webhookEvents(_ session: VerificationSession) -> [WebhookEvent] {
        session.webhookUrl == nil ? [] : rules.webhooks.events(session.lifecycle)
    }

    /// Plans the session's events that `previous` did not announce into the outbox.
    private func planWebhooks(_ state: inout State, _ session: VerificationSession, previous: [WebhookEvent]) {
        let events = webhookEvents(session)
        guard events != previous else { return }
        state.outbox.plan(key: session.key, events: events, previous: previous, session: session.id, creation: session.creation)
        webhookPlanned.withLock { $0 }?()
    }

    /// Sets what to call when a webhook is planned (a sender waiting for the next one).
    public func onWebhookPlanned(_ wake: @escaping @Sendable () -> Void) {
        webhookPlanned.withLock { $0 = wake }
    }

    /// When the next webhook attempt is due (model ms); nil when none is waiting.
    public func nextWebhookDue() -> Int64? {
        state.withLock { $0.outbox.next?.due }
    }

    /// Takes every attempt due by `now` and turns those to send into signed requests, in the order all
    /// runners take them; attempts superseded or in an outage are settled by the outbox.
    public func takeDueWebhooks(now: Int64) -> [OutgoingWebhook] {
        state.withLock { state in
            var due: [OutgoingWebhook] = []
            while let queued = state.outbox.popDue(by: now) {
                let session = state.sessions[queued.session]
                guard let url = session?.webhookUrl, let session,
                      let badSignature = state.outbox.start(queued, current: webhookEvents(session), at: now)
                else { continue }
                due.append(outgoing(queued, session, url: url, badSignature: badSignature, now: now))
            }
            return due
        }
    }

    private func outgoing(_ queued: WebhookOutbox<String>.Queued, _ session: VerificationSession, url: String, badSignature: Bool, now: Int64) -> OutgoingWebhook {
        let attempt = queued.attempt
        let eventID = WebhookMessage.eventID(verificationID: session.id, event: attempt.event)
        let message = WebhookMessage(
            eventID: eventID, deliveryID: "\(eventID).\(attempt.id.copy).\(attempt.id.attempt)", attempt: attempt.id.attempt,
            verificationID: session.id, status: attempt.event.status, occurredMillis: attempt.event.at
        )
        let body = message.encode(statusDocument: SessionDocuments.status(session, now: attempt.event.at, generation: configuration.api))
        let signature = webhookSecrets[session.clientID].map { secret in
            // A bad signature: the right scheme, the wrong key.
            WebhookSignature.sign(body: body, timestamp: now / 1_000, secret: badSignature ? "not-" + secret : secret)
        }
        return OutgoingWebhook(url: url, body: body, signature: signature, queued: queued)
    }

    /// The receiver's answer to a sent attempt (nil: none came, a timeout or no connection), at `now`.
    public func webhookAnswered(_ webhook: OutgoingWebhook, status: Int?, now: Int64) {
        state.withLock { $0.outbox.answered(webhook.queued, status: status, at: now) }
        webhookPlanned.withLock { $0 }?()
    }

    // MARK: Memory and ground truth

    private func evictExpired(_ state: inout State, now: Int64) {
        while let first = state.evictionQueue.first, first.evictAt <= now {
            state.evictionQueue.removeFirst()
            if let session = state.sessions.removeValue(forKey: first.id) {
                state.truth.evicted[session.status(at: now).rawValue, default: 0] += 1
            }
        }
    }

    /// Sessions held in memory now.
    public func liveSessionCount() -> Int {
        state.withLock { $0.sessions.count }
    }

    /// The service's own counts at `now`, for the harness to check its counts against.
    public func groundTruth(now: Int64) -> GroundTruth {
        state.withLock { state in
            var truth = state.truth
            truth.created = state.created
            truth.webhooks = state.outbox.dispatcher.truth.events > 0 ? state.outbox.dispatcher.truth : nil
            truth.sessionsByState = truth.evicted
            for session in state.sessions.values {
                truth.sessionsByState[session.status(at: now).rawValue, default: 0] += 1
            }
            return truth
        }
    }

    /// Every session still held, with its terminal time (model epoch milliseconds) where reached.
    public func sessionRecords(now: Int64) -> [SessionRecord] {
        state.withLock { state in
            state.sessions.values.sorted { $0.createdAt < $1.createdAt || ($0.createdAt == $1.createdAt && $0.id < $1.id) }.map { session in
                let terminal = session.terminal(at: now)
                return SessionRecord(
                    verificationId: session.id, key: session.key, clientId: session.clientID, providerId: session.provider.id,
                    status: session.status(at: now).rawValue, createdAt: session.createdAt, pendingAt: session.pendingAt.flatMap { $0 <= now ? $0 : nil },
                    terminalAt: terminal?.at
                )
            }
        }
    }
}
