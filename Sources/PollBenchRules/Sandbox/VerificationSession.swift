/// One verification as the sandbox holds it: who owns it, its provider, the texts its documents repeat,
/// and its ``SessionLifecycle``, which decides every status.
public struct VerificationSession: Sendable {
    public let id: String
    public let clientID: String
    public let key: String
    public let provider: Provider
    public let redirectUri: String?
    /// Where status changes are announced; nil: not at all.
    public let webhookUrl: String?
    /// The session's place in the order of creation (1 first): orders simultaneous webhooks.
    public let creation: Int
    public private(set) var lifecycle: SessionLifecycle
    /// `createdAt` and `expiresAt` as the API writes them, formatted once.
    let createdAtText: String
    let expiresAtText: String

    init(id: String, clientID: String, key: String, provider: Provider, lifecycle: SessionLifecycle, redirectUri: String?, webhookUrl: String? = nil, creation: Int = 0) {
        self.webhookUrl = webhookUrl
        self.creation = creation
        self.id = id
        self.clientID = clientID
        self.key = key
        self.provider = provider
        self.lifecycle = lifecycle
        self.redirectUri = redirectUri
        createdAtText = ISO8601Millis.format(lifecycle.createdAt)
        expiresAtText = ISO8601Millis.format(lifecycle.expiresAt)
    }

    public var plan: UserPlan { lifecycle.plan }
    public var createdAt: Int64 { lifecycle.createdAt }
    public var expiresAt: Int64 { lifecycle.expiresAt }
    public var pendingAt: Int64? { lifecycle.pendingAt }
    public var cancelledAt: Int64? { lifecycle.cancelledAt }

    /// The terminal status and when it was reached, judged at `now`; nil while still open.
    public func terminal(at now: Int64) -> (status: VerificationStatus, at: Int64)? { lifecycle.terminal(at: now) }

    /// The status at `now`.
    public func status(at now: Int64) -> VerificationStatus { lifecycle.status(at: now) }

    /// Records the client's cancel; false when the session is already terminal.
    mutating func cancel(at now: Int64) -> Bool { lifecycle.cancel(at: now) }

    /// Records the browser opening the authorization page (the first time only).
    mutating func open(at now: Int64) { lifecycle.open(at: now) }
}
