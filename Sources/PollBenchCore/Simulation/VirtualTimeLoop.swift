import Foundation
import HeapModule
import PollBenchRules

/// A transport loop in virtual time: no sockets and no sleeping. Each request is answered by the
/// in-process ``SandboxService`` half a round trip after it is submitted and completes one round trip
/// after; the clock jumps from event to event. The engine cannot tell it from the libcurl loop. The
/// sandbox's webhooks go, signed, to a ``WebhookReceiver`` when due, and what it passes on to the driver.
/// At one instant: answers first (in the order sent), then webhooks, then the driver's timers.
public final class VirtualTimeLoop: TransportLoop {
    public var previousTurn: LoopTurnTimes? { nil }

    private struct Completion: Comparable {
        var at: Int64
        var sequence: Int
        var tag: Int
        var result: HTTPResult

        static func < (a: Completion, b: Completion) -> Bool { (a.at, a.sequence) < (b.at, b.sequence) }
        static func == (a: Completion, b: Completion) -> Bool { (a.at, a.sequence) == (b.at, b.sequence) }
    }

    /// One request as the loop saw it, for tests and traces.
    public struct Exchange: Sendable {
        public var tag: Int
        public var method: HTTPMethod
        public var path: String
        /// Virtual wall nanoseconds after the origin.
        public var submittedNanos: Int64
        public var completedNanos: Int64
        public var status: Int?
        public var retryAfter: String?
    }

    private let service: SandboxService
    private let clock: ModelClock
    private var roundTrip: RoundTrips
    private var nowNanos: Int64
    private var pending = Heap<Completion>()
    private var sequence = 0
    /// Every request so far, in submission order (when `keepLog`).
    public private(set) var log: [Exchange] = []
    private let keepLog: Bool
    private let webhooks: WebhookReceiver?

    /// - Parameters:
    ///   - service: answers the requests; its model time is `clock`'s.
    ///   - roundTrip: wall time from submit to completion.
    ///   - start: virtual wall time at which the loop starts, after the origin (to continue an earlier loop's timeline).
    public init(service: SandboxService, clock: ModelClock, roundTrip: RoundTrips, start: Duration = .zero, keepLog: Bool = false, webhooks: WebhookReceiver? = nil) {
        self.service = service
        self.webhooks = webhooks
        self.clock = clock
        self.roundTrip = roundTrip
        nowNanos = start.inNanoseconds
        self.keepLog = keepLog
    }

    /// A loop whose every round trip takes `roundTrip`.
    public convenience init(service: SandboxService, clock: ModelClock, roundTrip: Duration, keepLog: Bool = false) {
        self.init(service: service, clock: clock, roundTrip: .constant(roundTrip), keepLog: keepLog)
    }

    /// The round-trip model as this loop left it (its generator advanced), to continue in the next loop.
    public var roundTrips: RoundTrips { roundTrip }

    /// The virtual wall clock, for the driver.
    public var now: ContinuousClock.Instant { clock.origin + .nanoseconds(nowNanos) }

    public var inFlight: Int { pending.count }

    /// Every request starts at once here: there are no connections to wait for, or to count.
    public var waitingForConnection: Int { 0 }

    public var openConnections: Int? { nil }

    public func makeWaker() -> @Sendable () -> Void { {} }  // nothing sleeps here

    @discardableResult
    public func submit(_ request: HTTPRequest, tag: Int) -> Bool {
        let path = Self.path(of: request.url) ?? request.url
        let roundTripNanos = roundTrip.next()
        // The service sees the request halfway through its round trip, as it would over a network.
        let answer = service.handle(
            SandboxRequest(
                method: request.method.rawValue, path: path,
                authorization: request.credentials?.authorization,
                workloadKey: request.headers.first { $0.name == "X-Pollbench-Key" }?.value,
                body: request.body ?? []
            ),
            now: clock.modelMicros(atNanos: nowNanos + roundTripNanos / 2) / 1_000
        )
        var completesAt = nowNanos + roundTripNanos + answer.delay.inNanoseconds
        let result: HTTPResult
        switch answer.delivery {
        case .closeMidResponse:
            result = .failure(TransportError(kind: InjectedFault.cutConnectionError, message: "connection closed mid-response (simulated)"))
        case .drip(let millis):
            completesAt += Int64(millis) * 1_000_000
            result = .success(Self.response(answer))
        case .normal:
            result = .success(Self.response(answer))
        }
        sequence += 1
        pending.insert(Completion(at: completesAt, sequence: sequence, tag: tag, result: result))
        if keepLog {
            let retryAfter = answer.headers.first { $0.name == "Retry-After" }?.value
            log.append(Exchange(tag: tag, method: request.method, path: path, submittedNanos: nowNanos, completedNanos: completesAt, status: answer.status, retryAfter: retryAfter))
        }
        return true
    }

    /// Runs `driver` to the end in virtual time; returns the virtual wall time it took.
    @discardableResult
    public func run(_ driver: any TransportLoopDriver) -> Duration {
        driver.loopDidStart(self)
        var finished = false
        while true {
            let turn = finished ? LoopTurn.finished : driver.turn(self)
            if case .finished = turn { finished = true }
            if finished && pending.isEmpty { return .nanoseconds(nowNanos) }
            var next = Int64.max
            if case .wait(let nanoseconds) = turn { next = nowNanos + max(0, nanoseconds) }
            if let completion = pending.min { next = min(next, completion.at) }
            if webhooks != nil, let due = service.nextWebhookDue() { next = min(next, clock.nanos(atModelMicros: due * 1_000)) }
            guard next != .max else { return .nanoseconds(nowNanos) }
            nowNanos = max(nowNanos, next)
            while let completion = pending.min, completion.at <= nowNanos {
                pending.removeMin()
                driver.requestDidFinish(tag: completion.tag, result: completion.result, loop: self)
            }
            deliverWebhooks(to: driver)
        }
    }

    /// Sends the webhooks due now to the receiver, answers the sandbox, and passes on what the receiver routes.
    private func deliverWebhooks(to driver: any TransportLoopDriver) {
        guard let webhooks else { return }
        let nowMillis = clock.modelMicros(atNanos: nowNanos) / 1_000
        for webhook in service.takeDueWebhooks(now: nowMillis) {
            let path = Self.path(of: webhook.url) ?? ""
            let answer = webhooks.receive(path: path, signature: webhook.signature, body: webhook.body, nowMillis: nowMillis)
            service.webhookAnswered(webhook, status: answer.status, now: nowMillis)
            if let delivery = answer.delivery, let driver = driver as? any WebhookDriver { driver.webhookArrived(delivery, loop: self) }
        }
    }

    /// The path of an absolute URL (`/api/v1/…` of `http://host/api/v1/…`); nil when it has none.
    private static func path(of url: String) -> String? {
        url.firstRange(of: "://").flatMap { scheme in url[scheme.upperBound...].firstIndex(of: "/") }.map { String(url[$0...]) }
    }

    private static func response(_ answer: SandboxResponse) -> HTTPResponse {
        func header(_ name: String) -> String? { answer.headers.first { $0.name == name }?.value }
        return HTTPResponse(
            status: answer.status,
            headers: ResponseHeaders(retryAfter: header("Retry-After")),
            body: answer.body
        )
    }
}
