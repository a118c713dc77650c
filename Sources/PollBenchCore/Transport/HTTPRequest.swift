import PollBenchRules

/// The HTTP methods the verification API uses.
public enum HTTPMethod: String, Sendable, Hashable {
    case get = "GET"
    case post = "POST"
    case delete = "DELETE"
}

/// One header field, in the order it will be sent.
public struct HTTPHeader: Sendable, Hashable {
    /// The field name, sent as given.
    public var name: String
    /// The field value.
    public var value: String

    /// Creates a header field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// HTTP Basic credentials. The secret is never printed: `description` redacts it.
public struct BasicCredentials: Sendable, Hashable, CustomStringConvertible {
    /// The client id (the user part of Basic auth).
    public var clientID: String
    /// The client secret (the password part of Basic auth).
    public var clientSecret: String

    /// Creates credentials.
    public init(clientID: String, clientSecret: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    public var description: String { "\(clientID):[redacted]" }

    /// The `Authorization` header's value that carries them.
    public var authorization: String { BasicAuthorization.value(id: clientID, secret: clientSecret) }
}

/// A request as the transport sends it: absolute URL, method, headers, body and limits.
public struct HTTPRequest: Sendable {
    /// The HTTP method.
    public var method: HTTPMethod
    /// The absolute URL, `http://` or `https://`.
    public var url: String
    /// Extra header fields; `Content-Type` is added for a body when absent.
    public var headers: [HTTPHeader]
    /// The body bytes, sent with `Content-Type: application/json` unless a header says otherwise.
    public var body: [UInt8]?
    /// Basic credentials, or nil for an anonymous request.
    public var credentials: BasicCredentials?
    /// The whole request's time limit, connection included.
    public var timeout: Duration
    /// Whether the response's `Content-Type` and announced time scale are kept (``ResponseHeaders``):
    /// asked for by the preflight, whose answer must be told from a web page, not by every poll.
    public var readsServiceHeaders = false

    /// Creates a request; the default timeout is 30 s.
    public init(
        method: HTTPMethod = .get,
        url: String,
        headers: [HTTPHeader] = [],
        body: [UInt8]? = nil,
        credentials: BasicCredentials? = nil,
        timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.credentials = credentials
        self.timeout = timeout
    }
}
