/// The service's behaviour, written once: users and their lifecycle, each client's budget, the faults
/// it injects, provider outages and `Retry-After`. ``SandboxService`` wraps it in HTTP documents; the fast
/// simulation calls it directly. Every call takes model time (epoch milliseconds); nothing reads a clock.
///
/// The order for an authenticated API request is code, not a comment: ``admit(_:budget:faults:at:)``
/// (the budget first: a 429 costs no work and draws no fault; then one fault draw from the session's
/// stream, ``faultStream(key:)``), then ``serve(_:handle:status:)`` (an injected server error at once;
/// otherwise the handling, and the drawn delivery fault on its answer). Both runners call the two.
public struct ServiceRules: Sendable {
    public let seed: UInt64
    public let ttlMillis: Int64
    public let faults: FaultConfiguration
    /// The model time the service started at: outage windows count from it.
    public let startMillis: Int64
    /// Whether any fault is configured (otherwise no draw is made).
    public let injectsFaults: Bool
    /// How webhooks are sent.
    public let webhooks: WebhookRules
    /// How long a workload key's fault stream outlives the key's last request: a session's time to live
    /// and its grace, after which the service holds nothing of the key's sessions and forgets its stream.
    public let faultStreamIdleMillis: Int64

    public init(configuration: SandboxConfiguration, startMillis: Int64) {
        seed = configuration.seed
        ttlMillis = Int64((configuration.ttlSeconds * 1_000).rounded())
        faults = configuration.faults
        self.startMillis = startMillis
        webhooks = WebhookRules(configuration: configuration.webhooks, seed: configuration.seed, startMillis: startMillis)
        faultStreamIdleMillis = ttlMillis + Int64((configuration.graceSeconds * 1_000).rounded())
        injectsFaults = configuration.faults.serverErrorRate + configuration.faults.closeRate + configuration.faults.malformedRate
            + configuration.faults.dripRate > 0 || configuration.faults.latency != nil
    }

    // MARK: Users and lifecycle

    /// The user behind a workload key, for a provider.
    public func plan(key: String, provider: Provider) -> UserPlan {
        UserPlan(seed: seed, key: key, behaviour: provider.behaviour)
    }

    /// A session created at `createdAt` for a user with this plan.
    public func lifecycle(plan: UserPlan, provider: Provider, createdAt: Int64) -> SessionLifecycle {
        SessionLifecycle(plan: plan, redirect: provider.flowType == .redirect, createdAt: createdAt, ttlMillis: ttlMillis)
    }

    // MARK: Admission and faults

    /// What the service does with an authenticated API request before handling it.
    public enum Admission: Sendable, Equatable {
        /// Over the client's budget: 429 with this `Retry-After`.
        case rateLimited(retryAfterSeconds: Int64)
        /// Handled, with this fault (``InjectedFault/none`` mostly).
        case admitted(InjectedFault)
    }

    /// Takes a token from the client's budget, then draws the request's fault from its session's stream
    /// (nil, and nothing drawn, when no fault is configured).
    public func admit(_ endpoint: SandboxEndpoint, budget: inout ClientBudget, faults stream: inout SplitMix64?, at now: Int64) -> Admission {
        if let seconds = budget.take(endpoint, at: now) { return .rateLimited(retryAfterSeconds: seconds) }
        guard stream != nil else { return .admitted(.none) }
        return .admitted(drawFault(&stream!))
    }

    /// A workload key's fault stream as the service holds it: where it stands, and the key's last request.
    public struct HeldFaultStream: Sendable {
        public var stream: SplitMix64
        public var lastUse: Int64
    }

    /// ``admit(_:budget:faults:at:)`` for a request of workload `key`, its stream as held (nil: none yet,
    /// or forgotten): continued, unless the key has been idle for longer than ``faultStreamIdleMillis``,
    /// when it starts afresh, as a service that forgot it would. The stream is held again, used now.
    public func admit(_ endpoint: SandboxEndpoint, budget: inout ClientBudget, faults held: inout HeldFaultStream?, key: String, at now: Int64) -> Admission {
        var stream = held.flatMap { now - $0.lastUse <= faultStreamIdleMillis ? $0.stream : nil } ?? faultStream(key: key)
        defer { held = stream.map { HeldFaultStream(stream: $0, lastUse: now) } }
        return admit(endpoint, budget: &budget, faults: &stream, at: now)
    }

    /// The stream that a workload key's requests draw their faults from, in the order the service sees
    /// them: so the same user meets the same faults whichever runner asks. Requests without a key
    /// share one stream per client. Nil when no fault is configured: nothing is drawn then.
    public func faultStream(key: String) -> SplitMix64? {
        injectsFaults ? SplitMix64(seed: seed, key: "faults/" + key) : nil
    }

    /// One request's fault: a server error (one unit draw, then one for the status), or else a delivery
    /// fault (one unit draw) and extra latency (one unit draw, and a sample when it applies).
    func drawFault(_ random: inout SplitMix64) -> InjectedFault {
        var fault = InjectedFault.none
        if faults.serverErrorRate > 0, random.nextUnit() < faults.serverErrorRate {
            fault.serverErrorStatus = [500, 502, 503][Int(random.next() % 3)]
            return fault
        }
        let draw = random.nextUnit()
        if draw < faults.closeRate {
            fault.delivery = .cut
        } else if draw < faults.closeRate + faults.malformedRate {
            fault.delivery = .malformed
        } else if draw < faults.closeRate + faults.malformedRate + faults.dripRate {
            fault.delivery = .drip(millis: faults.dripMillis)
        }
        if let latency = faults.latency, random.nextUnit() < latency.rate {
            fault.latencyMicros = Int64(latency.millis.sample(&random) * 1_000)
        }
        return fault
    }

    /// Whether `providerID` is in an outage at model time `now`.
    public func inOutage(_ providerID: String, at now: Int64) -> Bool {
        guard !faults.outages.isEmpty else { return false }
        let elapsed = Double(now - startMillis) / 1_000
        return faults.outages.contains { ($0.provider == nil || $0.provider == providerID) && $0.fromSeconds <= elapsed && elapsed < $0.toSeconds }
    }
}

/// A fault injected into one request.
public struct InjectedFault: Sendable, Equatable {
    /// How the answer is delivered.
    public enum Delivery: Sendable, Equatable {
        case normal
        /// The head and half the body, then the connection closes.
        case cut
        /// The JSON body is cut short (success documents only: an error envelope stays readable).
        case malformed
        /// The body trickles out over this many wall milliseconds.
        case drip(millis: Int)
    }

    /// 500, 502 or 503 answered at once, with no work done; nil: the request is handled.
    public var serverErrorStatus: Int?
    public var delivery = Delivery.normal
    /// Wall microseconds added before answering (the network and servers, not time-scaled).
    public var latencyMicros: Int64 = 0

    /// No fault.
    public static let none = InjectedFault()

    /// The delivery fault as it applies to an answer with this status.
    public func delivery(forStatus status: Int) -> Delivery {
        delivery == .malformed && !(200..<300).contains(status) ? .normal : delivery
    }

    /// What a client sees of a connection cut mid-response: the body ends before its declared length
    /// (curl's `CURLE_PARTIAL_FILE`).
    public static let cutConnectionError = TransportError.Kind.truncated
}

/// A client's request budget at the service: overall, and per endpoint on top.
public struct ClientBudget: Sendable {
    private var overall: TokenBucket?
    /// Only the endpoints that have a budget: a handful at most, searched without hashing.
    private var endpoints: [(endpoint: SandboxEndpoint, bucket: TokenBucket)]
    /// Whether any budget applies.
    public let isLimited: Bool

    /// Full buckets at model time `now`.
    public init(rateLimit: TokenBucket.Limit?, endpointLimits: [String: TokenBucket.Limit], now: Int64) {
        overall = rateLimit.map { TokenBucket($0, now: now) }
        endpoints = SandboxEndpoint.allCases.compactMap { endpoint in endpointLimits[endpoint.rawValue].map { (endpoint, TokenBucket($0, now: now)) } }
        isLimited = overall != nil || !endpoints.isEmpty
    }

    /// Nil when a request to `endpoint` at `now` may go; else the `Retry-After` seconds of its 429.
    public mutating func take(_ endpoint: SandboxEndpoint, at now: Int64) -> Int64? {
        guard isLimited else { return nil }
        var wait = overall?.take(at: now)
        if wait == nil, let index = endpoints.firstIndex(where: { $0.endpoint == endpoint }) { wait = endpoints[index].bucket.take(at: now) }
        return wait.map(TokenBucket.retryAfterSeconds(waitMillis:))
    }
}
