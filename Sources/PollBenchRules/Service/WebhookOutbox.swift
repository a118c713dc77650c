import HeapModule

/// The service's webhook outbox, written once: every planned attempt waits here until it is due, taken in
/// the order every runner takes simultaneous ones (due time, then ``WebhookAttemptID/order(creation:)``),
/// and the dispatcher's rules decide what becomes of it when it falls due (sent, superseded, or failed
/// at once in an outage and queued again for its retry) and when it is answered. The sandbox sends what
/// it takes over HTTP; the fast simulation hands it to its receiver directly.
public struct WebhookOutbox<Session: Sendable>: Sendable {
    /// An attempt waiting, for `session`, the service's `creation`-th.
    public struct Queued: Sendable {
        public let attempt: WebhookAttempt
        public let session: Session
        public let creation: Int

        public init(attempt: WebhookAttempt, session: Session, creation: Int) {
            self.attempt = attempt
            self.session = session
            self.creation = creation
        }

        /// Its place among attempts due at the same time.
        public var order: Int64 { attempt.id.order(creation: creation) }
    }

    private struct Entry: Comparable {
        let queued: Queued
        let order: Int64

        static func < (a: Self, b: Self) -> Bool { (a.queued.attempt.due, a.order) < (b.queued.attempt.due, b.order) }
        static func == (a: Self, b: Self) -> Bool { (a.queued.attempt.due, a.order) == (b.queued.attempt.due, b.order) }
    }

    /// The rules, and the service's counts of what became of its webhooks.
    public private(set) var dispatcher: WebhookDispatcher
    private var queue = Heap<Entry>()

    public init(rules: WebhookRules) {
        dispatcher = WebhookDispatcher(rules: rules)
    }

    /// Queues the first attempts of what `events` announces and `previous` did not (a changed lifecycle
    /// announces only what changed), for the user behind `key`.
    public mutating func plan(key: String, events: [WebhookEvent], previous: [WebhookEvent], session: Session, creation: Int) {
        for attempt in dispatcher.plan(key: key, events: events, previous: previous) {
            enqueue(Queued(attempt: attempt, session: session, creation: creation))
        }
    }

    /// The next attempt's due time (model ms) and its place among simultaneous ones; nil when none waits.
    public var next: (due: Int64, order: Int64)? {
        queue.min.map { ($0.queued.attempt.due, $0.order) }
    }

    /// Takes the next attempt out if it is due by `now` (model ms).
    public mutating func popDue(by now: Int64) -> Queued? {
        guard let first = queue.min, first.queued.attempt.due <= now else { return nil }
        return queue.removeMin().queued
    }

    /// Starts a taken attempt at `now`, its session announcing `current` (nil: the session is gone, and
    /// the attempt with it). Returns whether to send it with a bad signature; nil when it is not sent:
    /// superseded, or failed in an outage (its retry is queued).
    public mutating func start(_ queued: Queued, current: [WebhookEvent]?, at now: Int64) -> Bool? {
        guard let current else { return nil }
        switch dispatcher.start(queued.attempt, current: current, at: now) {
        case .superseded:
            return nil
        case .blocked(let retry):
            if let retry { enqueue(Queued(attempt: retry, session: queued.session, creation: queued.creation)) }
            return nil
        case .send(let badSignature):
            return badSignature
        }
    }

    /// The receiver's answer to a sent attempt (`status` nil: none came, a timeout or no connection) at
    /// `now`: done on a 2xx, else its retry is queued while the rules give one.
    public mutating func answered(_ queued: Queued, status: Int?, at now: Int64) {
        if let retry = dispatcher.answered(queued.attempt, status: status, at: now) {
            enqueue(Queued(attempt: retry, session: queued.session, creation: queued.creation))
        }
    }

    /// Drops every attempt waiting (a simulated round's sessions end with it).
    public mutating func removeAll() {
        queue = Heap()
    }

    private mutating func enqueue(_ queued: Queued) {
        queue.insert(Entry(queued: queued, order: queued.order))
    }
}
