/// How a session ended, as results count them.
public enum SessionOutcome: String, Sendable, CaseIterable, Codable {
    case completed, failed, expired, cancelled
    /// The client gave up (default 5 minutes, as the published client does).
    case clientTimeout = "client-timeout"
    /// The session could not be created or was lost.
    case error
    /// The run was interrupted before the session ended.
    case interrupted
}

extension SessionOutcome {
    /// The status document's field that gives the service's time of this terminal status: `verifiedAt`,
    /// `expiresAt`, and `updatedAt` (pollbench's sandbox adds it; the published documents give a failed or
    /// cancelled session no time); nil for an outcome that is not a status.
    public var serviceTimeField: String? {
        switch self {
        case .completed: APIField.verifiedAt
        case .expired: APIField.expiresAt
        case .failed, .cancelled: APIField.updatedAt
        default: nil
        }
    }

    /// The outcome a terminal status means; nil for a status that is not terminal.
    public init?(terminal status: VerificationStatus) {
        switch status {
        case .completed: self = .completed
        case .failed: self = .failed
        case .cancelled: self = .cancelled
        case .expired: self = .expired
        case .initiated, .pending: return nil
        }
    }
}
