/// The two generations of the provider's API the sandbox can speak. They share every rule; they differ
/// in their base path, in how the waiting state is spelt, and in their error documents.
public enum APIGeneration: String, Sendable, Codable, CaseIterable {
    /// `/api/v1`: `pending`, and the error envelope with the published numeric `code`.
    case apiV1 = "api-v1"
    /// `/connect/v1`: `awaiting_user_action` until the user is half way to the outcome, then
    /// `authenticating`; RFC 7807 problem documents (`application/problem+json`) with readable titles
    /// and no numeric code.
    case connectV1 = "connect-v1"

    /// The path the base URL ends in.
    public var basePath: String {
        switch self {
        case .apiV1: "/api/v1"
        case .connectV1: "/connect/v1"
        }
    }

    /// The base path's segments, as routing matches them.
    var pathSegments: [String] {
        switch self {
        case .apiV1: ["api", "v1"]
        case .connectV1: ["connect", "v1"]
        }
    }

    /// How a session's status at `now` is written.
    func statusText(_ lifecycle: SessionLifecycle, at now: Int64) -> String {
        let status = lifecycle.status(at: now)
        guard self == .connectV1, status == .pending else { return status.rawValue }
        if let pendingAt = lifecycle.pendingAt, let outcomeAt = lifecycle.outcomeAt, now >= pendingAt + (outcomeAt - pendingAt) / 2 {
            return Self.authenticating
        }
        return Self.awaitingUserAction
    }

    /// The media type of error documents.
    var errorContentType: String {
        switch self {
        case .apiV1: "application/json"
        case .connectV1: "application/problem+json"
        }
    }

    /// The error document for `problem`.
    func errorDocument(_ problem: APIError, instance: String, timestamp: Int64) -> [UInt8] {
        switch self {
        case .apiV1:
            return problem.envelope(instance: instance, timestamp: timestamp)
        case .connectV1:
            var json = JSONObjectWriter()
            json.string("type", "https://docs.hopae.com/problems/" + problem.title.lowercased().replacingOccurrences(of: ".", with: "-").replacingOccurrences(of: "_", with: "-"))
            json.string("title", problem.readableTitle)
            json.number("status", Int64(problem.status))
            json.string("detail", problem.detail)
            json.string("instance", instance)
            return json.finish()
        }
    }

    /// connect-v1's spelling of `pending` before the user is half way through.
    public static let awaitingUserAction = "awaiting_user_action"
    /// connect-v1's spelling of `pending` once the user is authenticating in the app.
    public static let authenticating = "authenticating"
}

extension VerificationStatus {
    /// The status a document's text names, in either generation's spelling; nil for one neither knows.
    public init?(wireText: String) {
        switch wireText {
        case APIGeneration.awaitingUserAction, APIGeneration.authenticating: self = .pending
        default: self.init(rawValue: wireText)
        }
    }
}

extension APIError {
    /// The problem's title as RFC 7807 has it: a short sentence for people.
    var readableTitle: String {
        switch self {
        case .invalidCredentials: "Invalid client credentials"
        case .missingParameter: "Missing parameter"
        case .invalidParameter, .bodyTooLarge: "Invalid parameter"
        case .sessionNotFound: "Verification not found"
        case .invalidTransition: "Invalid status transition"
        case .providerNotEnabled: "Provider not enabled"
        case .providerUnavailable: "Provider unavailable"
        case .notCompleted: "Verification not completed"
        case .rateLimited: "Too many requests"
        case .routeNotFound: "Not found"
        case .methodNotAllowed: "Method not allowed"
        case .internalError: "Internal server error"
        }
    }
}
