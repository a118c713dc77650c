/// The API's errors with their HTTP status, title and code, written as the problem-details envelope.
public enum APIError: Error, Sendable, Equatable {
    case invalidCredentials
    case missingParameter(String)
    case invalidParameter(String)
    case sessionNotFound(String)
    case invalidTransition(String)
    case providerNotEnabled(String)
    case providerUnavailable(String)
    case notCompleted(String)
    case rateLimited
    case routeNotFound(String)
    case methodNotAllowed(String)
    case bodyTooLarge(Int)
    case internalError(Int)

    /// The HTTP status.
    public var status: Int {
        switch self {
        case .invalidCredentials: 401
        case .missingParameter, .invalidParameter, .notCompleted: 400
        case .sessionNotFound, .routeNotFound: 404
        case .invalidTransition: 409
        case .providerNotEnabled: 403
        case .providerUnavailable: 503
        case .rateLimited: 429
        case .methodNotAllowed: 405
        case .bodyTooLarge: 413
        case .internalError(let status): status
        }
    }

    /// The `title` field.
    public var title: String {
        switch self {
        case .invalidCredentials: "AUTH.INVALID_CREDENTIALS"
        case .missingParameter: "VALIDATION.MISSING_PARAMETER"
        case .invalidParameter, .bodyTooLarge: "VALIDATION.INVALID_PARAMETER"
        case .sessionNotFound: "SESSION.NOT_FOUND"
        case .invalidTransition: "SESSION.INVALID_STATUS_TRANSITION"
        case .providerNotEnabled: "PROVIDER.NOT_ENABLED"
        case .providerUnavailable: "PROVIDER.UNAVAILABLE"
        case .notCompleted: "VERIFICATION.NOT_COMPLETED"
        case .rateLimited: "RATE_LIMIT.EXCEEDED"
        case .routeNotFound: "ROUTE.NOT_FOUND"
        case .methodNotAllowed: "ROUTE.METHOD_NOT_ALLOWED"
        case .internalError: "SERVER.INTERNAL_ERROR"
        }
    }

    /// The `code` field as JSON: the published number, the string code for `verification_not_completed`,
    /// or null where the contract publishes none (429, routing, injected server errors).
    public var codeJSON: String {
        switch self {
        case .invalidCredentials: "100001"
        case .missingParameter: "200001"
        case .invalidParameter, .bodyTooLarge: "200002"
        case .sessionNotFound: "300001"
        case .invalidTransition: "300003"
        case .providerNotEnabled: "400002"
        case .providerUnavailable: "400005"
        case .notCompleted: "\"verification_not_completed\""
        case .rateLimited, .routeNotFound, .methodNotAllowed, .internalError: "null"
        }
    }

    /// The `code` as a client counts it from the envelope: the number or the string; nil where it is null.
    public var countedCode: String? {
        switch codeJSON {
        case "null": nil
        case let code where code.hasPrefix("\""): String(code.dropFirst().dropLast())
        case let code: code
        }
    }

    /// The `detail` field.
    public var detail: String {
        switch self {
        case .invalidCredentials: "Missing or invalid client credentials."
        case .missingParameter(let name): "Required parameter '\(name)' is missing."
        case .invalidParameter(let why): why
        case .sessionNotFound(let id): "Verification '\(id)' was not found."
        case .invalidTransition(let status): "The verification is already \(status)."
        case .providerNotEnabled(let id): "Provider '\(id)' is not enabled for this client."
        case .providerUnavailable(let id): "Provider '\(id)' is temporarily unavailable."
        case .notCompleted(let status): "The verification is \(status), not completed."
        case .rateLimited: "Too many requests; retry after the time in Retry-After."
        case .routeNotFound(let path): "No route for '\(path)'."
        case .methodNotAllowed(let method): "Method \(method) is not allowed here."
        case .bodyTooLarge(let limit): "The request body exceeds \(limit) bytes."
        case .internalError: "Injected server error."
        }
    }

    /// The envelope as JSON.
    public func envelope(instance: String, timestamp: Int64) -> [UInt8] {
        var json = JSONObjectWriter()
        json.string("type", "about:blank#" + title.lowercased())
        json.string("title", title)
        json.number("status", Int64(status))
        json.string("detail", detail)
        json.raw("code", Array(codeJSON.utf8))
        json.string("instance", instance)
        json.string("timestamp", ISO8601Millis.format(timestamp))
        return json.finish()
    }
}
