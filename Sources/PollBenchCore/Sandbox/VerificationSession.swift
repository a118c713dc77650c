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
        firstActionMillis = Int64((behaviour.firstAction.sample(&random) * 1_000).rounded())
        completionMillis = Int64((behaviour.completion.sample(&random) * 1_000).rounded())
        let draw = random.nextUnit()
        outcome = draw < behaviour.completed ? .completed
            : draw < behaviour.completed + behaviour.failed ? .failed
            : draw < behaviour.completed + behaviour.failed + behaviour.cancelled ? .cancelled
            : .abandoned
        identitySeed = random.next()
    }
}

/// One verification: its fixed times and plan. Its status at any instant follows from those, so the
/// sandbox needs no timers and knows every terminal time exactly.
public struct VerificationSession: Sendable {
    public let id: String
    public let clientID: String
    public let key: String
    public let provider: Provider
    public let createdAt: Int64
    public let expiresAt: Int64
    public let plan: UserPlan
    public let redirectUri: String?
    /// `createdAt` and `expiresAt` as the API writes them, formatted once.
    let createdAtText: String
    let expiresAtText: String
    /// For redirect flows: when the user's browser opened the authorization page (nil: not yet).
    public private(set) var openedAt: Int64?
    /// When the client cancelled it (nil: never).
    public private(set) var cancelledAt: Int64?

    init(id: String, clientID: String, key: String, provider: Provider, createdAt: Int64, ttlMillis: Int64, plan: UserPlan, redirectUri: String?) {
        self.id = id
        self.clientID = clientID
        self.key = key
        self.provider = provider
        self.createdAt = createdAt
        self.expiresAt = createdAt + ttlMillis
        self.plan = plan
        self.redirectUri = redirectUri
        createdAtText = ISO8601Millis.format(createdAt)
        expiresAtText = ISO8601Millis.format(createdAt + ttlMillis)
    }

    /// When the user's first action happens (nil: a redirect whose page was never opened).
    public var pendingAt: Int64? {
        switch provider.flowType {
        case .qr, .push: createdAt + plan.firstActionMillis
        case .redirect: openedAt.map { $0 + plan.firstActionMillis }
        }
    }

    /// When the user's outcome happens (nil: the user abandons, or never starts).
    public var outcomeAt: Int64? {
        guard plan.outcome != .abandoned, let pendingAt else { return nil }
        return pendingAt + plan.completionMillis
    }

    /// The terminal status and when it was reached, judged at `now`; nil while still open.
    public func terminal(at now: Int64) -> (status: VerificationStatus, at: Int64)? {
        var first = Self.end(plan: plan, outcomeAt: outcomeAt, expiresAt: expiresAt)
        if let cancelledAt, cancelledAt < first.at { first = (.cancelled, cancelledAt) }
        return first.at <= now ? first : nil
    }

    /// How and when a session that nobody cancels ends: the user's outcome if it comes before expiry,
    /// else expiry. Shared with ``FastSimulation`` so both read the lifecycle the same way.
    static func end(plan: UserPlan, outcomeAt: Int64?, expiresAt: Int64) -> (status: VerificationStatus, at: Int64) {
        guard let outcomeAt, outcomeAt < expiresAt else { return (.expired, expiresAt) }
        return switch plan.outcome {
        case .completed: (.completed, outcomeAt)
        case .failed: (.failed, outcomeAt)
        case .cancelled, .abandoned: (.cancelled, outcomeAt)
        }
    }

    /// The status at `now`.
    public func status(at now: Int64) -> VerificationStatus {
        if let terminal = terminal(at: now) { return terminal.status }
        if let pendingAt, pendingAt <= now { return .pending }
        return .initiated
    }

    /// Records the client's cancel; false when the session is already terminal.
    mutating func cancel(at now: Int64) -> Bool {
        guard terminal(at: now) == nil else { return false }
        cancelledAt = now
        return true
    }

    /// Records the browser opening the authorization page (the first time only).
    mutating func open(at now: Int64) {
        if openedAt == nil, terminal(at: now) == nil { openedAt = now }
    }
}
