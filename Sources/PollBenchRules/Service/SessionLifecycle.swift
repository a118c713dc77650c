/// A verification's status as the API names it.
public enum VerificationStatus: String, Sendable, Codable, CaseIterable {
    case initiated, pending, completed, failed, cancelled, expired

    /// Whether no further change can happen.
    public var isTerminal: Bool {
        switch self {
        case .initiated, .pending: false
        case .completed, .failed, .cancelled, .expired: true
        }
    }
}

/// What the simulated user will do, drawn from the run seed and the session's workload key, so the
/// same key behaves the same in every run with that seed, whatever order requests arrive in.
public struct UserPlan: Sendable, Equatable {
    /// How the user ends the session, unless it expires first or the client cancels it.
    public enum Outcome: String, Sendable, CaseIterable {
        case completed, failed, cancelled, abandoned
    }

    /// Model milliseconds from creation (or, for redirect flows, from the browser opening the page) to `pending`.
    public var firstActionMillis: Int64
    /// Model milliseconds from `pending` to the outcome.
    public var completionMillis: Int64
    /// The outcome.
    public var outcome: Outcome
    /// Seeds the user's attributes.
    public var identitySeed: UInt64

    /// Draws the plan for `key` under `seed` from `behaviour`.
    public init(seed: UInt64, key: String, behaviour: UserBehaviour) {
        var random = SplitMix64(seed: seed, key: key)
        firstActionMillis = behaviour.outcomeTime == nil ? Int64((behaviour.firstAction.sample(&random) * 1_000).rounded()) : 0
        completionMillis = Int64((behaviour.completion.sample(&random) * 1_000).rounded())
        let draw = random.nextUnit()
        outcome = draw < behaviour.completed ? .completed
            : draw < behaviour.completed + behaviour.failed ? .failed
            : draw < behaviour.completed + behaviour.failed + behaviour.cancelled ? .cancelled
            : .abandoned
        identitySeed = random.next()
    }
}

/// The service's lifecycle rule for one verification: `initiated`, then `pending` at the user's first
/// action, then the user's outcome, or `expired` once `expiresAt` passes, or `cancelled` by the client.
/// Every status follows from a few fixed times, so the service needs no timers and knows every terminal
/// time exactly. Times are model epoch milliseconds.
public struct SessionLifecycle: Sendable, Equatable {
    public let plan: UserPlan
    /// Whether the user starts only once the browser opens the authorization page.
    public let redirect: Bool
    public let createdAt: Int64
    public let expiresAt: Int64
    /// For redirect flows: when the user's browser opened the authorization page (nil: not yet).
    public private(set) var openedAt: Int64?
    /// When the client cancelled it (nil: never).
    public private(set) var cancelledAt: Int64?

    public init(plan: UserPlan, redirect: Bool, createdAt: Int64, ttlMillis: Int64) {
        self.plan = plan
        self.redirect = redirect
        self.createdAt = createdAt
        expiresAt = createdAt + ttlMillis
    }

    /// When the user's first action happens (nil: a redirect whose page was never opened).
    public var pendingAt: Int64? {
        redirect ? openedAt.map { $0 + plan.firstActionMillis } : createdAt + plan.firstActionMillis
    }

    /// When the user's outcome happens (nil: the user abandons, or never starts).
    public var outcomeAt: Int64? {
        guard plan.outcome != .abandoned, let pendingAt else { return nil }
        return pendingAt + plan.completionMillis
    }

    /// How and when the session ends if the client does not cancel it: the user's outcome if it comes
    /// before expiry, else expiry.
    public var plannedEnd: (status: VerificationStatus, at: Int64) {
        guard let outcomeAt, outcomeAt < expiresAt else { return (.expired, expiresAt) }
        return switch plan.outcome {
        case .completed: (.completed, outcomeAt)
        case .failed: (.failed, outcomeAt)
        case .cancelled, .abandoned: (.cancelled, outcomeAt)
        }
    }

    /// When a redirect flow's browser is sent back to `redirectUri`: the user's outcome, if before expiry.
    public var returnAt: Int64? {
        outcomeAt.flatMap { $0 < expiresAt ? $0 : nil }
    }

    /// The terminal status and when it was reached, judged at `now`; nil while still open.
    public func terminal(at now: Int64) -> (status: VerificationStatus, at: Int64)? {
        var first = plannedEnd
        if let cancelledAt, cancelledAt < first.at { first = (.cancelled, cancelledAt) }
        return first.at <= now ? first : nil
    }

    /// The status at `now`.
    public func status(at now: Int64) -> VerificationStatus {
        if let terminal = terminal(at: now) { return terminal.status }
        if let pendingAt, pendingAt <= now { return .pending }
        return .initiated
    }

    /// Records the client's cancel; false when the session is already terminal.
    public mutating func cancel(at now: Int64) -> Bool {
        guard terminal(at: now) == nil else { return false }
        cancelledAt = now
        return true
    }

    /// Records the browser opening the authorization page (the first time only).
    public mutating func open(at now: Int64) {
        if openedAt == nil, terminal(at: now) == nil { openedAt = now }
    }
}
