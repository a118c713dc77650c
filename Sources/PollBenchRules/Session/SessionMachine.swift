/// The client's rules for one verification session, written once: create (with its retries), the
/// redirect flow, polling on the strategy's schedule until a terminal status or the client timeout,
/// then userinfo and evidence. Pure: an event and the time go in, one action comes out; it does no I/O
/// and reads no clock (the shape of Hummingbird's connection state machines). The live engine, the
/// engine simulation and the fast simulation drive sessions only through it, so they cannot disagree
/// on what a session does next.
///
/// Times are model microseconds since the Unix epoch, on the client's clock.
public struct SessionMachine: Sendable {
    /// The client's settings every session shares.
    public struct Policy: Sendable {
        /// Model µs after the first create at which the client gives up.
        public var clientTimeoutMicros: Int64
        /// Creates retried after a 429, 5xx or transport error; then the session ends as `error`.
        public var createRetries: Int
        /// Model µs after the first create at which a pure `webhook` session, still unanswered, reads the
        /// status once (never after the client timeout).
        public var webhookTimeoutMicros: Int64

        /// - Parameter webhookTimeoutMillis: nil: the client timeout.
        public init(clientTimeoutMillis: Int64, createRetries: Int, webhookTimeoutMillis: Int64? = nil) {
            clientTimeoutMicros = clientTimeoutMillis * 1_000
            self.createRetries = createRetries
            webhookTimeoutMicros = min(webhookTimeoutMillis ?? clientTimeoutMillis, clientTimeoutMillis) * 1_000
        }
    }

    /// What a webhook meant to the session.
    public enum NoticeKind: String, Sendable, CaseIterable {
        /// The first announcement of its status change.
        case first
        /// The same status change announced again.
        case duplicate
        /// A `pending` announcement after the session's end was known.
        case outOfOrder = "out-of-order"
        /// A terminal announcement after a poll had already seen the end.
        case late
    }

    /// Which channel saw a session's end first.
    public enum Channel: String, Sendable, CaseIterable, Codable {
        case poll, webhook
    }

    /// The answer to a create.
    public enum CreateAnswer: Sendable, Equatable {
        /// 201 with a readable document: the service's `createdAt` (model ms, when it says) and whether
        /// the flow sends a browser to an authorization page.
        case created(serviceCreatedMillis: Int64?, redirect: Bool)
        /// No session: `retryable` for a 429, a 5xx or a transport error (a 201 whose body cannot be read
        /// created a session already, so it is not), and the `Retry-After` in model ms when one came.
        case rejected(retryable: Bool, retryAfterMillis: Int64?)

        /// A create that gave no readable session, by its HTTP status (nil: no response at all): worth
        /// retrying after no response, a 429 or a 5xx.
        public static func rejected(status: Int?, retryAfterMillis: Int64?) -> CreateAnswer {
            .rejected(retryable: status.map { $0 == 429 || $0 >= 500 } ?? true, retryAfterMillis: retryAfterMillis)
        }
    }

    /// The answer to a status poll.
    public enum StatusAnswer: Sendable, Equatable {
        /// A status that is not terminal (known or not).
        case open
        /// A terminal status, with the service's time of it (model ms) when its document tells.
        case terminal(SessionOutcome, serviceMillis: Int64?)
        /// 404: the session is gone.
        case notFound
        /// A 429 or 503 with `Retry-After`, in model ms.
        case retryAfter(millis: Int64)
        /// A 5xx, a transport error or a body that cannot be read.
        case failed
    }

    /// What happened to the session.
    public enum Event: Sendable, Equatable {
        /// Its arrival: the first create goes out.
        case arrived
        /// The time it asked for (``Action/wake(atMicros:)``) has come.
        case timerFired
        /// The create's answer, and when that create was actually sent (model µs).
        case createAnswered(CreateAnswer, sentMicros: Int64)
        /// The authorization page answered: when the browser returns to `redirectUri` on the service's
        /// clock (model ms), nil when the user never comes back.
        case authorizeAnswered(returnAtServiceMillis: Int64?)
        /// The authorization page could not be read.
        case authorizeFailed
        case statusAnswered(StatusAnswer)
        /// Userinfo or evidence answered (whatever the answer: the result is already known).
        case readAnswered
        /// A terminal status announced by webhook, with its time on the service's clock (``notify(_:at:_:)``
        /// passes on the first of each).
        case notified(WebhookEvent)
        /// The run stops.
        case interrupted
    }

    /// What the runner must do next.
    public enum Action: Sendable, Equatable {
        case none
        /// Send this request now.
        case send(Endpoint)
        /// Deliver ``Event/timerFired`` at this model µs.
        case wake(atMicros: Int64)
        /// The session is over: record its ``SessionMachine`` figures under this outcome.
        case end(SessionOutcome)
    }

    private enum Phase: UInt8 {
        case waiting, creating, createBackoff, authorizing, awaitingReturn, timingOut, pollDue, polling, userinfo, evidence, done
    }

    // Stored compactly (a simulation holds a million of these and touches them in no order): times that
    // may be unknown are `unknown` rather than optionals, and the small fields sit together at the end.
    private static let unknown = WebhookEvent.unknownTime

    private var schedule: PollSchedule
    private var random: SplitMix64
    /// Creates sent so far.
    public private(set) var createAttempts = 0
    /// Status polls answered.
    public private(set) var polls = 0
    /// When the client gives up (model µs).
    public private(set) var deadlineMicros: Int64 = .max
    /// When the create that made the session was sent (the last attempt until one succeeds).
    public private(set) var createSentMicros: Int64 = 0
    private var createReceived = unknown
    private var serviceCreated = unknown
    private var terminalSeen = unknown
    private var serviceTerminal = unknown
    private var lastOpen = unknown
    /// Requests sent so far (creates, the authorization page, polls, reads).
    public private(set) var requests: Int32 = 0
    /// Model ms waited beyond the strategy because of `Retry-After` on polls.
    public private(set) var retryAfterWaitMillis: Int64 = 0
    /// When the next poll is due (model µs), while one is.
    private var nextPollMicros: Int64 = 0
    private var saved: Int32 = 0
    private var phase = Phase.waiting
    /// Whether the service created the session.
    public private(set) var isCreated = false
    /// Whether its flow sends a browser to the provider (which then tells when the user comes back).
    public private(set) var isRedirect = false
    /// Whether the session asks for webhooks, and whether it has no safety poll.
    public let usesWebhooks: Bool
    private let pureWebhook: Bool
    /// Statuses announced so far, one bit each.
    private var noticed: UInt8 = 0
    /// A terminal status announced while a request was in flight: its times wait in ``terminalSeenMicros``
    /// and ``serviceTerminalMillis``, and it is acted on when the answer comes.
    private var held: VerificationStatus?
    /// The channel that saw the end first.
    public private(set) var detectedBy: Channel?

    /// When the successful create's answer arrived.
    public var createReceivedMicros: Int64? { Self.known(createReceived) }
    /// The service's `createdAt` (model ms).
    public var serviceCreatedMillis: Int64? { Self.known(serviceCreated) }
    /// When the client saw a terminal status (or took its webhook, held until a request in flight was answered).
    public var terminalSeenMicros: Int64? { Self.known(terminalSeen) }
    /// The service's time of that status, where its document or webhook told (`verifiedAt`, `expiresAt`, `occurredAt`).
    public var serviceTerminalMillis: Int64? { Self.known(serviceTerminal) }
    /// When the last poll that found the session still open was answered: with ``terminalSeenMicros`` it
    /// brackets the end when no document says when it came.
    public var lastOpenMicros: Int64? { Self.known(lastOpen) }
    /// Polls the webhook made unneeded: those the session's schedule would still have sent, up to the
    /// first that would have seen the end.
    public var pollsSaved: Int { Int(saved) }

    private static func known(_ value: Int64) -> Int64? { value == unknown ? nil : value }

    /// A session under `strategy`, its jitter drawn from the run seed, the workload key and the strategy's
    /// position in its round (the stream of "KEY/POSITION"): the same draws in every runner. An `optimal` strategy polls on `provider`'s schedule.
    public init(strategy: PollStrategy, seed: UInt64, key: String, position: Int, provider: String? = nil) {
        self.init(strategy: strategy, seed: seed, keyHash: StableHash.fnv1a(key), position: position, provider: provider)
    }

    /// The same, with the key's ``StableHash`` already known (a simulation reuses it for every strategy).
    public init(strategy: PollStrategy, seed: UInt64, keyHash: UInt64, position: Int, provider: String? = nil) {
        schedule = PollSchedule(strategy: strategy, provider: provider)
        usesWebhooks = strategy.usesWebhooks
        pureWebhook = strategy == .webhook(safety: nil)
        let slash = StableHash.fnv1a(CollectionOfOne(UInt8(ascii: "/")), continuing: keyHash)
        random = SplitMix64(seed: seed, keyHash: StableHash.fnv1a(String(position).utf8, continuing: slash))
    }

    /// Whether the session has arrived (an interrupt before that leaves no result).
    public var hasStarted: Bool { phase != .waiting }

    /// Whether the session has ended.
    public var isDone: Bool { phase == .done }

    /// What a due timer means to this session: its arrival, the first time, else ``Event/timerFired``.
    public var timerEvent: Event { hasStarted ? .timerFired : .arrived }

    /// The service's clock minus the client's, from the create's `createdAt` against the midpoint of its
    /// round trip (µs); nil when unknown. Good to within half the round trip.
    public var clockOffsetMicros: Int64? {
        Self.clockOffsetMicros(serviceCreatedMillis: serviceCreatedMillis, sentMicros: createSentMicros, receivedMicros: createReceivedMicros)
    }

    /// The clock offset a create shows: `createdAt` against the midpoint of the create's round trip.
    public static func clockOffsetMicros(serviceCreatedMillis: Int64?, sentMicros: Int64, receivedMicros: Int64?) -> Int64? {
        guard let created = serviceCreatedMillis, let received = receivedMicros else { return nil }
        return created * 1_000 - (sentMicros + received) / 2
    }

    /// Takes `event` at model µs `now` and says what to do next.
    public mutating func handle(_ event: Event, at now: Int64, _ policy: Policy) -> Action {
        switch (event, phase) {
        case (.interrupted, .waiting):
            phase = .done  // never started: not a result
            return .none
        case (.interrupted, .done):
            return .none
        case (.interrupted, _):
            return end(.interrupted)
        case (.arrived, .waiting):
            deadlineMicros = now + policy.clientTimeoutMicros
            return sendCreate(at: now)
        case (.timerFired, .createBackoff):
            return sendCreate(at: now)
        case (.createAnswered(let answer, let sent), .creating):
            let next = created(answer, sent: sent, at: now, policy)
            return isCreated ? takeHeld(at: now) ?? next : next
        case (.authorizeAnswered(let returnAt), .authorizing):
            return takeHeld(at: now) ?? awaitReturn(returnAt, at: now)
        case (.authorizeFailed, .authorizing):
            return takeHeld(at: now) ?? schedulePoll(after: schedule.nextDelay(after: .failed, &random), at: now)
        case (.timerFired, .awaitingReturn), (.timerFired, .pollDue):
            phase = .polling
            return send(.status)
        case (.timerFired, .timingOut):
            return end(.clientTimeout)
        case (.statusAnswered(let answer), .polling):
            if let action = takeHeld(at: now) {
                polls += 1
                return action
            }
            return polled(answer, at: now, policy)
        case (.notified(let notice), .pollDue), (.notified(let notice), .awaitingReturn), (.notified(let notice), .timingOut):
            return noticed(notice, seenAt: now, at: now)
        case (.notified(let notice), .creating), (.notified(let notice), .authorizing), (.notified(let notice), .polling):
            held = notice.status  // one request at a time: acted on when its answer comes
            terminalSeen = now
            serviceTerminal = notice.at
            return .none
        case (.readAnswered, .userinfo):
            phase = .evidence
            return send(.evidence)
        case (.readAnswered, .evidence):
            return end(.completed)
        default:
            return .none  // a stale timer or an answer the session no longer waits for
        }
    }

    // MARK: Steps

    private mutating func sendCreate(at now: Int64) -> Action {
        createAttempts += 1
        createSentMicros = now
        phase = .creating
        return send(.create)
    }

    private mutating func send(_ endpoint: Endpoint) -> Action {
        requests += 1
        return .send(endpoint)
    }

    private mutating func created(_ answer: CreateAnswer, sent: Int64, at now: Int64, _ policy: Policy) -> Action {
        switch answer {
        case .rejected(let retryable, let retryAfter):
            guard retryable, createAttempts <= policy.createRetries else { return end(.error) }
            let backoffMillis = Int64(1_000) << min(createAttempts - 1, 5)
            phase = .createBackoff
            return .wake(atMicros: now + max(backoffMillis, retryAfter ?? 0) * 1_000)
        case .created(let serviceCreated, let redirect):
            isCreated = true
            self.serviceCreated = serviceCreated ?? Self.unknown
            createSentMicros = sent
            createReceived = now
            if redirect {
                isRedirect = true
                phase = .authorizing
                return send(.authorize)
            }
            return pureWebhook ? awaitWebhook(at: now, policy) : schedulePoll(after: schedule.firstDelay(&random), at: now)
        }
    }

    /// The browser came back from the authorization page: read the status when the user returns, or give
    /// up at the client timeout if that comes first.
    private mutating func awaitReturn(_ returnAtServiceMillis: Int64?, at now: Int64) -> Action {
        // returnAt is on the service's clock: move it onto ours with this session's create round trip.
        if let returnAt = returnAtServiceMillis.map({ $0 * 1_000 - (clockOffsetMicros ?? 0) }), returnAt < deadlineMicros {
            phase = .awaitingReturn
            nextPollMicros = max(now, returnAt)
            return .wake(atMicros: nextPollMicros)
        }
        phase = .timingOut  // the user never comes back, or not before the client gives up
        return .wake(atMicros: max(now, deadlineMicros))
    }

    private mutating func polled(_ answer: StatusAnswer, at now: Int64, _ policy: Policy) -> Action {
        polls += 1
        let outcome: PollSchedule.Outcome
        switch answer {
        case .terminal(let terminal, let serviceMillis):
            terminalSeen = now
            serviceTerminal = serviceMillis ?? Self.unknown
            detectedBy = .poll
            return ended(terminal)
        case .notFound:
            return end(.error)
        case _ where pureWebhook:
            return awaitWebhook(at: now, policy)  // its one read found no end: wait for the webhook to the end
        case .open:
            lastOpen = now
            outcome = .notYet
        case .retryAfter(let millis):
            retryAfterWaitMillis += millis
            outcome = .retryAfter(millis: millis)
        case .failed:
            outcome = .failed
        }
        return schedulePoll(after: schedule.nextDelay(after: outcome, elapsedMillis: sinceCreatedMillis(now), &random), at: now)
    }

    /// Model ms from the create's answer to `now`.
    private func sinceCreatedMillis(_ now: Int64) -> Int64 {
        (now - (createReceivedMicros ?? now)) / 1_000
    }

    private mutating func schedulePoll(after delayMillis: Int64, at now: Int64) -> Action {
        let due = now + delayMillis * 1_000
        guard due <= deadlineMicros else { return end(.clientTimeout) }
        phase = .pollDue
        nextPollMicros = due
        return .wake(atMicros: due)
    }

    /// A pure webhook session waits for its webhook: it reads the status once at the webhook timeout,
    /// then waits on to the client timeout.
    private mutating func awaitWebhook(at now: Int64, _ policy: Policy) -> Action {
        let read = deadlineMicros - policy.clientTimeoutMicros + policy.webhookTimeoutMicros
        guard now < read else {
            phase = .timingOut
            return .wake(atMicros: max(now, deadlineMicros))
        }
        phase = .pollDue
        nextPollMicros = read
        return .wake(atMicros: read)
    }

    // MARK: Webhooks

    /// Takes a webhook the receiver accepted at `now` (the status change it announces): says what it
    /// meant, and what to do.
    public mutating func notify(_ notice: WebhookEvent, at now: Int64, _ policy: Policy) -> (kind: NoticeKind, action: Action) {
        let bit = UInt8(1) << (VerificationStatus.allCases.firstIndex(of: notice.status) ?? 0)
        guard noticed & bit == 0 else { return (.duplicate, .none) }
        noticed |= bit
        let endKnown = terminalSeenMicros != nil || isDone
        guard notice.status.isTerminal else { return (endKnown ? .outOfOrder : .first, .none) }
        guard !endKnown else { return (.late, .none) }
        return (.first, handle(.notified(notice), at: now, policy))
    }

    /// The held announcement, acted on now that the request in flight is answered; nil when none.
    private mutating func takeHeld(at now: Int64) -> Action? {
        guard let status = held else { return nil }
        held = nil
        return noticed(WebhookEvent(status: status, at: serviceTerminal), seenAt: terminalSeen, at: now)
    }

    /// The webhook announced the end, seen at `seen`.
    private mutating func noticed(_ notice: WebhookEvent, seenAt seen: Int64, at now: Int64) -> Action {
        guard let outcome = SessionOutcome(terminal: notice.status) else { return .none }
        let waiting = phase == .pollDue || phase == .awaitingReturn
        // A change whose time the delivery does not say ended, at the latest, when it arrived.
        let end = notice.at == Self.unknown ? now : notice.at * 1_000 - (clockOffsetMicros ?? 0)
        saved = Int32(savedPolls(from: waiting ? nextPollMicros : nil, at: now, endMicros: end))
        terminalSeen = seen
        serviceTerminal = notice.at
        detectedBy = .webhook
        return ended(outcome)
    }

    /// The polls the schedule would still send from `first` (nil: the next after a request answered at
    /// `now`) up to the first at or after the end: on a copy, so the session's own draws are untouched.
    private func savedPolls(from first: Int64?, at now: Int64, endMicros: Int64) -> Int {
        if pureWebhook { return first == nil || phase == .awaitingReturn ? 0 : 1 }  // its one read
        var schedule = self.schedule, random = self.random
        var due = first ?? now + schedule.nextDelay(after: .notYet, elapsedMillis: sinceCreatedMillis(now), &random) * 1_000
        var count = 0
        while due <= deadlineMicros, count < 10_000 {
            count += 1
            if due >= endMicros { break }
            due += schedule.nextDelay(after: .notYet, elapsedMillis: sinceCreatedMillis(due), &random) * 1_000
        }
        return count
    }

    /// The end is known: a completed session reads its result, any other ends.
    private mutating func ended(_ outcome: SessionOutcome) -> Action {
        guard outcome == .completed else { return end(outcome) }
        phase = .userinfo
        return send(.userinfo)
    }

    private mutating func end(_ outcome: SessionOutcome) -> Action {
        phase = .done
        return .end(outcome)
    }
}
