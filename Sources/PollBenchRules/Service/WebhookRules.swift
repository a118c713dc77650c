/// How the service sends webhooks: which status changes it announces, how long a delivery takes, its
/// retries and the faults it injects. Decoded from the sandbox configuration's `webhooks` object.
public struct WebhookConfiguration: Sendable, Codable, Equatable {
    /// A window in which no delivery gets through (model seconds after the service started).
    public struct Outage: Sendable, Codable, Equatable {
        public var fromSeconds: Double
        public var toSeconds: Double

        public init(fromSeconds: Double, toSeconds: Double) {
            self.fromSeconds = fromSeconds
            self.toSeconds = toSeconds
        }
    }

    /// Announce `pending` too, not only terminal statuses.
    public var notifyPending = false
    /// From the status change to the POST, model milliseconds. Assumed: median 200 ms, p99 2 s (a
    /// log-normal through both), as providers' queues tend to deliver.
    public var delay = LogNormal(median: 200, p99: 2_000)
    /// The waits after a failed attempt (a non-2xx answer, a timeout, an outage), model seconds.
    public var retryDelaysSeconds: [Double] = [1, 5, 30]
    /// Share of status changes never announced.
    public var lossRate = 0.0
    /// Share announced twice (a second delivery of the same event, with its own delay).
    public var duplicateRate = 0.0
    /// Share of `pending` announcements held back until after the terminal one (needs `notifyPending`).
    public var outOfOrderRate = 0.0
    /// Share of attempts signed with a wrong key.
    public var badSignatureRate = 0.0
    /// Windows in which attempts fail.
    public var outages: [Outage] = []
    /// Wall milliseconds the sender waits for the receiver's answer.
    public var timeoutMillis = 10_000

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case notifyPending, delay, retryDelaysSeconds, lossRate, duplicateRate, outOfOrderRate, badSignatureRate, outages, timeoutMillis
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = WebhookConfiguration()
        notifyPending = try c.decodeIfPresent(Bool.self, forKey: .notifyPending) ?? defaults.notifyPending
        delay = try c.decodeIfPresent(LogNormal.self, forKey: .delay) ?? defaults.delay
        retryDelaysSeconds = try c.decodeIfPresent([Double].self, forKey: .retryDelaysSeconds) ?? defaults.retryDelaysSeconds
        lossRate = try c.decodeIfPresent(Double.self, forKey: .lossRate) ?? 0
        duplicateRate = try c.decodeIfPresent(Double.self, forKey: .duplicateRate) ?? 0
        outOfOrderRate = try c.decodeIfPresent(Double.self, forKey: .outOfOrderRate) ?? 0
        badSignatureRate = try c.decodeIfPresent(Double.self, forKey: .badSignatureRate) ?? 0
        outages = try c.decodeIfPresent([Outage].self, forKey: .outages) ?? []
        timeoutMillis = try c.decodeIfPresent(Int.self, forKey: .timeoutMillis) ?? defaults.timeoutMillis
    }

    /// The first problem in these settings, or nil.
    public func problem() -> String? {
        if [lossRate, duplicateRate, outOfOrderRate, badSignatureRate].contains(where: { !(0...1).contains($0) }) { return "webhook fault rates must be between 0 and 1" }
        if outOfOrderRate > 0 && !notifyPending { return "webhooks: outOfOrderRate needs notifyPending (only a pending announcement can come after the terminal one)" }
        if !(delay.median >= 0 && delay.p95 >= delay.median) { return "webhooks: the delay needs 0 <= median <= p95" }
        if retryDelaysSeconds.count > 7 || retryDelaysSeconds.contains(where: { !($0 > 0 && $0 <= 3_600) }) { return "webhooks: at most 7 retry delays, each in (0, 3600] seconds" }
        if outages.contains(where: { !($0.fromSeconds < $0.toSeconds) }) { return "each webhook outage needs fromSeconds < toSeconds" }
        if !(1...120_000).contains(timeoutMillis) { return "webhooks: timeoutMillis must be 1...120000" }
        return nil
    }
}

/// One delivery of an event: the first copy or a duplicate (`copy` 1), and its attempt (1 first).
public struct WebhookAttemptID: Sendable, Equatable, Hashable {
    public var event: Int
    public var copy: Int
    public var attempt: Int

    public init(event: Int, copy: Int, attempt: Int) {
        self.event = event
        self.copy = copy
        self.attempt = attempt
    }

    /// Where a delivery falls among simultaneous ones: by the session's creation order, then this.
    /// Both simulations and the sandbox order deliveries due at the same time so.
    public func order(creation: Int) -> Int64 { Int64(creation) << 6 | Int64(event << 5 | copy << 4 | min(attempt, 15)) }
}

/// The service's webhook rules, written once: the events a lifecycle announces, each event's drawn fate
/// (lost, duplicated, held back, its delays and bad signatures), an attempt's outcome in an outage, and
/// the retries. The sandbox carries them out over HTTP, the fast simulation directly. Model time, ms.
public struct WebhookRules: Sendable {
    public let configuration: WebhookConfiguration
    let seed: UInt64
    let startMillis: Int64

    public init(configuration: WebhookConfiguration, seed: UInt64, startMillis: Int64) {
        self.configuration = configuration
        self.seed = seed
        self.startMillis = startMillis
    }

    /// Attempts per delivery: the first and its retries.
    public var maximumAttempts: Int { configuration.retryDelaysSeconds.count + 1 }

    /// The events a session announces as its lifecycle stands (pending first, when announced and reached
    /// before the end; then the terminal status the lifecycle ends in).
    public func events(_ lifecycle: SessionLifecycle) -> [WebhookEvent] {
        guard let end = lifecycle.terminal(at: .max) else { return [] }
        var events: [WebhookEvent] = []
        if configuration.notifyPending, let pending = lifecycle.pendingAt, pending < end.at { events.append(WebhookEvent(status: .pending, at: pending)) }
        events.append(WebhookEvent(status: end.status, at: end.at))
        return events
    }

    /// What the service drew for one event of the user behind `key`: nil when it is lost, else when each
    /// copy's first attempt is due and which attempts are signed wrongly. Drawn from the event's own
    /// stream (the user's and the status's, not the time's: a run that creates the session a little
    /// later draws the same), so every runner, and every strategy, draws the same whatever the order.
    public func plan(key: String, event: WebhookEvent, events: [WebhookEvent]) -> [WebhookCopy]? {
        var random = SplitMix64(seed: seed, key: "webhook/\(key)/\(event.status.rawValue)")
        let lost = random.nextUnit() < configuration.lossRate
        let copies = random.nextUnit() < configuration.duplicateRate ? 2 : 1
        var heldUntil = event.at
        if random.nextUnit() < configuration.outOfOrderRate, let last = events.last, last.at > event.at {
            heldUntil = last.at  // held back behind the session's terminal announcement
        }
        var plan: [WebhookCopy] = []
        for _ in 0..<copies {
            let due = heldUntil + Int64(configuration.delay.sample(&random).rounded())
            let bad = (0..<maximumAttempts).map { _ in random.nextUnit() < configuration.badSignatureRate }
            plan.append(WebhookCopy(firstDue: due, badSignature: bad))
        }
        return lost ? nil : plan
    }

    /// Whether an attempt at `now` falls in an outage (it then fails without reaching the receiver).
    public func inOutage(at now: Int64) -> Bool {
        guard !configuration.outages.isEmpty else { return false }
        let elapsed = Double(now - startMillis) / 1_000
        return configuration.outages.contains { $0.fromSeconds <= elapsed && elapsed < $0.toSeconds }
    }

    /// When the attempt after failed attempt `attempt` (1 first) is due, or nil: given up.
    public func retry(after attempt: Int, failedAt now: Int64) -> Int64? {
        guard attempt <= configuration.retryDelaysSeconds.count else { return nil }
        return now + Int64((configuration.retryDelaysSeconds[attempt - 1] * 1_000).rounded())
    }

    /// Whether a receiver's answer ends the delivery: any 2xx.
    public static func delivered(status: Int?) -> Bool { status.map { (200..<300).contains($0) } ?? false }
}

/// One copy of an event's delivery as drawn: its first attempt's time and which attempts carry a bad signature.
public struct WebhookCopy: Sendable, Equatable {
    public var firstDue: Int64
    public var badSignature: [Bool]
}

/// What the sandbox counts of its webhooks.
public struct WebhookTruth: Sendable, Codable, Equatable {
    /// Status changes announced (events planned), and those the loss fault swallowed.
    public var events = 0
    public var lost = 0
    /// Extra copies sent by the duplicate fault.
    public var duplicated = 0
    /// Attempts that reached the receiver, and those that got a 2xx.
    public var attempts = 0
    public var delivered = 0
    /// Attempts that failed: a non-2xx answer, a timeout or no connection, an outage window.
    public var failed = 0
    public var inOutage = 0
    /// Retries scheduled, and deliveries given up after the last one.
    public var retries = 0
    public var gaveUp = 0
    /// Attempts signed with a wrong key.
    public var badSignatures = 0
    /// Deliveries dropped because the session's lifecycle changed before they were due.
    public var superseded = 0
}

/// One attempt to deliver an event, due at `due` (model ms).
public struct WebhookAttempt: Sendable, Equatable {
    public var due: Int64
    public var id: WebhookAttemptID
    public var event: WebhookEvent
    /// Which of the copy's attempts are signed wrongly, one bit each (bit 0: the first).
    var badSignatures: UInt8

    /// Whether this attempt carries a bad signature.
    public var badSignature: Bool { badSignatures >> (id.attempt - 1) & 1 == 1 }
}

/// The service's side of webhooks, as every runner carries it out: plans a session's events into
/// attempts, starts each attempt when due and takes the receiver's answer, counting all of it. The
/// sandbox keeps the attempts in its outbox and sends them over HTTP; the fast simulation keeps them in
/// its event queue.
public struct WebhookDispatcher: Sendable {
    public let rules: WebhookRules
    public private(set) var truth = WebhookTruth()

    public init(rules: WebhookRules) {
        self.rules = rules
    }

    /// The first attempts of the events in `events` that `previous` did not have (a changed lifecycle
    /// announces only what changed), for the user behind `key`.
    public mutating func plan(key: String, events: [WebhookEvent], previous: [WebhookEvent] = []) -> [WebhookAttempt] {
        var attempts: [WebhookAttempt] = []
        for (index, event) in events.enumerated() where !previous.contains(event) {
            truth.events += 1
            guard let copies = rules.plan(key: key, event: event, events: events) else {
                truth.lost += 1
                continue
            }
            truth.duplicated += copies.count - 1
            for (copy, planned) in copies.enumerated() {
                let mask = planned.badSignature.enumerated().reduce(UInt8(0)) { $0 | ($1.element ? 1 << $1.offset : 0) }
                attempts.append(WebhookAttempt(due: planned.firstDue, id: WebhookAttemptID(event: index, copy: copy, attempt: 1), event: event, badSignatures: mask))
            }
        }
        return attempts
    }

    /// What becomes of an attempt that is due, the session's events being `current` now.
    public enum Start: Sendable, Equatable {
        /// Send it (signed wrongly when `badSignature`).
        case send(badSignature: Bool)
        /// The lifecycle changed: the event it announces will not happen. Dropped.
        case superseded
        /// In an outage: failed at once, retried by `retry` (nil: given up).
        case blocked(retry: WebhookAttempt?)
    }

    public mutating func start(_ attempt: WebhookAttempt, current: [WebhookEvent], at now: Int64) -> Start {
        guard current.contains(attempt.event) else {
            truth.superseded += 1
            return .superseded
        }
        guard !rules.inOutage(at: now) else {
            truth.inOutage += 1
            return .blocked(retry: failed(attempt, at: now))
        }
        if attempt.badSignature { truth.badSignatures += 1 }
        return .send(badSignature: attempt.badSignature)
    }

    /// The receiver answered an attempt with `status` (nil: no answer, a timeout) at `now`: done on a
    /// 2xx, else the retry (nil: given up).
    public mutating func answered(_ attempt: WebhookAttempt, status: Int?, at now: Int64) -> WebhookAttempt? {
        if status != nil { truth.attempts += 1 }
        if WebhookRules.delivered(status: status) {
            truth.delivered += 1
            return nil
        }
        return failed(attempt, at: now)
    }

    private mutating func failed(_ attempt: WebhookAttempt, at now: Int64) -> WebhookAttempt? {
        truth.failed += 1
        guard let due = rules.retry(after: attempt.id.attempt, failedAt: now) else {
            truth.gaveUp += 1
            return nil
        }
        truth.retries += 1
        var retry = attempt
        retry.due = due
        retry.id.attempt += 1
        return retry
    }
}

extension WebhookTruth {
    /// Both runs' (or shards') figures added up.
    package func adding(_ other: WebhookTruth) -> WebhookTruth {
        WebhookTruth(
            events: events + other.events, lost: lost + other.lost, duplicated: duplicated + other.duplicated, attempts: attempts + other.attempts,
            delivered: delivered + other.delivered, failed: failed + other.failed, inOutage: inOutage + other.inOutage, retries: retries + other.retries,
            gaveUp: gaveUp + other.gaveUp, badSignatures: badSignatures + other.badSignatures, superseded: superseded + other.superseded
        )
    }
}
